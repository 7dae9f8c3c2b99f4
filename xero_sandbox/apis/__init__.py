"""Xero's APIs beside Accounting, each in a module of its own: Projects, Fixed Assets.

``table`` holds what the store needs to keep their records (pure data, imported by the store);
``serving`` the shared machinery (tenant, region and subscription checks, paging, answers);
``projects`` and ``assets`` the routes; ``seeding`` their demo data. ``routes`` collects them.
"""

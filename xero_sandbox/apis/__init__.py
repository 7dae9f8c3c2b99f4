"""Xero's APIs beside Accounting, each in a module of its own: Projects, Fixed Assets, Payroll AU,
Payroll UK and NZ, Files, and Accounting attachments.

``table`` holds what the store needs to keep their records (pure data, imported by the store);
``serving`` the shared machinery (tenant, region and subscription checks, paging, answers); the
API modules their routes, which ``routes`` collects. Their demo data is seeded by
``xero_sandbox.seed``.
"""

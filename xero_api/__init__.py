"""xero_api."""

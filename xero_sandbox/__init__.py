"""xero_sandbox."""

"""target_xero."""

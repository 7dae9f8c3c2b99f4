"""tap_xero."""

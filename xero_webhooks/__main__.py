"""``python -m xero_webhooks`` = ``xero-webhooks``."""

import sys

from xero_webhooks.cli import main

sys.exit(main())

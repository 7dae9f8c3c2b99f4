"""``python -m xero_sandbox``."""

import sys

from xero_sandbox.cli import main

sys.exit(main())

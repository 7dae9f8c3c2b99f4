"""xero-webhooks: a production receiver for Xero webhooks with a durable event queue.

Run ``xero-webhooks serve`` (see ``docs/webhooks.md``); tap-xero reads the queue it fills
(``webhook_queue`` setting). The queue itself is :mod:`xero_api.event_queue`, shared by both.
"""

from xero_webhooks.app import ReceiverConfig, build_app

__all__ = ["ReceiverConfig", "build_app"]

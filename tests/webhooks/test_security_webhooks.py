"""Webhook signatures: verified over the raw body in constant time; bad or missing ones refused.

tap-xero and target-xero receive no webhooks (they are batch programs), so the check lives once
in ``xero_api.webhooks`` and is used by ``xero-webhooks serve``, tested over HTTP against the
sandbox's handshake and deliveries in ``test_webhooks_receiver.py``.
"""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from xero_api import webhooks
from xero_api.webhooks import sign, verify_signature
from xero_sandbox.webhooks import sign as sandbox_sign

KEY = "planted-webhook-key-5d2e81"
BODY = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"ABC"}'


def test_signature_matches_the_sandbox_and_verifies() -> None:
    assert sign(KEY, BODY) == sandbox_sign(KEY, BODY)
    assert verify_signature(KEY, BODY, sandbox_sign(KEY, BODY))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "not base64 at all",
        sign("another-key", BODY),
        sign(KEY, BODY + b" "),  # signature of a different body
        sign(KEY, BODY)[:-4],  # truncated
        sign(KEY, BODY).lower(),  # base64 is case-sensitive
    ],
)
def test_bad_or_missing_signatures_are_refused(header: str | None) -> None:
    assert not verify_signature(KEY, BODY, header)


def test_an_empty_key_verifies_nothing() -> None:
    assert not verify_signature("", BODY, sign("", BODY))


def test_a_tampered_body_is_refused() -> None:
    good = sign(KEY, BODY)
    assert not verify_signature(KEY, BODY.replace(b"ABC", b"ABD"), good)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every verdict comes from hmac.compare_digest, never from ==."""
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    assert verify_signature(KEY, BODY, sign(KEY, BODY))
    assert not verify_signature(KEY, BODY, sign(KEY, b"other"))
    assert len(calls) == 2

"""Webhook signatures: verified over the raw body in constant time; bad or missing ones refused.

tap-xero and target-xero receive no webhooks (they are batch programs), so the check lives once
in ``xero_api.webhooks`` and is used by the documented receiver ``examples/webhook_receiver.py``.
The sandbox signs as Xero does; its intent-to-receive handshake sends good and bad signatures.
"""

from __future__ import annotations

import hmac
import importlib.util
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from xero_api import webhooks
from xero_api.webhooks import sign, verify_signature
from xero_sandbox.launcher import Sandbox
from xero_sandbox.webhooks import sign as sandbox_sign

KEY = "planted-webhook-key-5d2e81"
BODY = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"ABC"}'


def _example() -> ModuleType:
    path = Path(__file__).parents[1] / "examples" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The example receiver on a loopback port, collecting accepted events."""
    events: list[dict[str, Any]] = []
    server = _example().make_server(KEY, events.append)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks", events
    finally:
        server.shutdown()
        server.server_close()


def test_example_receiver_answers_401_to_bad_and_200_to_good(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, events = receiver
    event = {"eventCategory": "CONTACT", "eventType": "CREATE", "resourceId": "r1"}
    body = json.dumps({"events": [event]}).encode()
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"x-xero-signature": "bogus"}).status_code == 401
    forged = {"x-xero-signature": sign("guessed-key", body)}
    assert httpx.post(url, content=body, headers=forged).status_code == 401
    assert events == []  # nothing from a bad signature got through
    good = httpx.post(url, content=body, headers={"x-xero-signature": sign(KEY, body)})
    assert good.status_code == 200
    assert good.content == b""
    assert events == [event]


def test_example_receiver_passes_the_sandbox_handshake_and_gets_events(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, events = receiver
    with Sandbox(tenants=1, scale=2, webhook_url=url, webhook_key=KEY, time_scale=10) as sb:
        deadline = time.monotonic() + 60
        while sb.stats()["webhooks"]["intent_to_receive"]["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        handshake = sb.stats()["webhooks"]["intent_to_receive"]
        assert handshake["status"] == "passed"
        signed = [a["correctly_signed"] for a in handshake["attempts"]]
        assert True in signed
        assert False in signed  # the sandbox did try bad signatures, and they were refused
        tenant = sb.tenant_ids()[0]
        created = httpx.put(
            f"{sb.url}/api.xro/2.0/Contacts",
            headers=sb.headers(tenant),
            json={"Contacts": [{"Name": "Webhook Witness"}]},
            timeout=30,
        )
        assert created.status_code == 200, created.text
        contact_id = created.json()["Contacts"][0]["ContactID"]
        while not any(e.get("resourceId") == contact_id for e in events):
            assert time.monotonic() < deadline, events
            time.sleep(0.1)
    assert KEY not in json.dumps(events)

"""Webhooks over real HTTP: intent-to-receive, signed batched events, retries, bad receivers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx

from tests._sandbox_edge_support import WebhookReceiver, wait_for
from xero_sandbox.launcher import Sandbox

KEY = "wh-key-3f1b9c2e7a"


def handshake(sb: Sandbox) -> dict[str, Any]:
    wait_for(lambda: sb.stats()["webhooks"]["intent_to_receive"]["status"] != "pending")
    result: dict[str, Any] = sb.stats()["webhooks"]["intent_to_receive"]
    return result


def create_contact(sb: Sandbox, tenant: str, name: str) -> str:
    answer = httpx.put(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers=sb.headers(tenant),
        json={"Contacts": [{"Name": name}]},
    )
    assert answer.status_code == 200, answer.text
    contact_id: str = answer.json()["Contacts"][0]["ContactID"]
    return contact_id


def test_handshake_then_signed_events_with_sequences() -> None:
    # 10x: the 5-second batch window lasts half a real second.
    with (
        WebhookReceiver(KEY) as receiver,
        Sandbox(tenants=1, scale=2, webhook_url=receiver.url, webhook_key=KEY, time_scale=10) as sb,
    ):
        result = handshake(sb)
        assert result["status"] == "passed"
        signed = [a["correctly_signed"] for a in result["attempts"]]
        assert True in signed
        assert False in signed
        assert [a["status"] for a in result["attempts"]] == [200 if s else 401 for s in signed]
        probes = receiver.payloads()[: len(signed)]
        assert all(p["events"] == [] and p["firstEventSequence"] == 0 for p in probes)
        assert len({p["entropy"] for p in probes}) == len(probes)

        tenant = sb.tenant_ids()[0]
        contact_id = create_contact(sb, tenant, "Webhook Test Ltd")
        update = httpx.post(
            f"{sb.url}/api.xro/2.0/Contacts",
            headers=sb.headers(tenant),
            json={
                "Contacts": [
                    {"ContactID": contact_id, "Name": "Webhook Test Ltd", "EmailAddress": "a@b.co"}
                ]
            },
        )
        assert update.status_code == 200, update.text
        wait_for(lambda: len(receiver.events()) >= 2)
        events = receiver.events()
        assert [(e["eventCategory"], e["eventType"]) for e in events] == [
            ("CONTACT", "CREATE"),
            ("CONTACT", "UPDATE"),
        ]
        for event in events:
            assert event["resourceId"] == contact_id
            assert event["tenantId"] == tenant
            assert event["tenantType"] == "ORGANISATION"
            assert event["resourceUrl"] == f"{sb.url}/api.xro/2.0/Contacts/{contact_id}"
            fetched = httpx.get(event["resourceUrl"], headers=sb.headers(tenant))
            assert fetched.json()["Contacts"][0]["ContactID"] == contact_id
        sequences: list[int] = []
        for body, signature, payload in receiver.event_payloads():
            expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest())
            assert signature == expected.decode()
            first, last = payload["firstEventSequence"], payload["lastEventSequence"]
            assert last - first + 1 == len(payload["events"])
            sequences.extend(range(first, last + 1))
        assert sequences == list(range(sequences[0], sequences[0] + len(events)))
        stats = sb.stats()["webhooks"]
        assert stats["events_delivered"] == 2
        assert stats["batches_delivered"] == len(receiver.event_payloads())
        assert KEY not in json.dumps(sb.stats())


def test_failed_delivery_is_retried() -> None:
    # 10x: the first retry comes 10 sandbox seconds (one real second) later.
    with (
        WebhookReceiver(KEY, fail_events=1) as receiver,
        Sandbox(tenants=1, scale=2, webhook_url=receiver.url, webhook_key=KEY, time_scale=10) as sb,
    ):
        assert handshake(sb)["status"] == "passed"
        create_contact(sb, sb.tenant_ids()[0], "Retry Me Ltd")
        wait_for(lambda: len(receiver.events()) == 1)
        stats = sb.stats()["webhooks"]
        assert stats["failed_attempts"] == 1
        assert stats["events_delivered"] == 1
        # The retry is the same payload, signed the same way.
        attempts = [(body, sig) for body, sig, _ in receiver.posts if json.loads(body)["events"]]
        assert len(attempts) == 2
        assert attempts[0] == attempts[1]


def test_receiver_that_ignores_signatures_fails_the_handshake() -> None:
    with (
        WebhookReceiver(KEY, verify=False) as receiver,
        Sandbox(tenants=1, scale=2, webhook_url=receiver.url, webhook_key=KEY, time_scale=10) as sb,
    ):
        result = handshake(sb)
        assert result["status"] == "failed"
        assert any(not a["ok"] and not a["correctly_signed"] for a in result["attempts"])
        create_contact(sb, sb.tenant_ids()[0], "Never Told Ltd")
        wait_for(lambda: sb.stats()["webhooks"]["events_suppressed"] >= 1)
        assert receiver.events() == []


def test_sequence_numbers_keep_rising_across_a_restart() -> None:
    with (
        WebhookReceiver(KEY) as receiver,
        Sandbox(tenants=1, scale=2, webhook_url=receiver.url, webhook_key=KEY, time_scale=10) as sb,
    ):
        assert handshake(sb)["status"] == "passed"
        create_contact(sb, sb.tenant_ids()[0], "Before Restart Ltd")
        wait_for(lambda: len(receiver.events()) == 1)
        sb.restart()
        assert handshake(sb)["status"] == "passed"
        create_contact(sb, sb.tenant_ids()[0], "After Restart Ltd")
        wait_for(lambda: len(receiver.events()) == 2)
        sequences = [p["firstEventSequence"] for _, _, p in receiver.event_payloads()]
        assert sequences[1] == sequences[0] + 1

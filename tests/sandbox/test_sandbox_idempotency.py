"""`Idempotency-Key` on the sandbox's writes: replay, mismatch, expiry, restart and scoping."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from tests._sandbox_writes_support import UNLIMITED, Api, invoice, parsed
from xero_sandbox.launcher import Sandbox

MISMATCH = "is used with a different request"


@pytest.fixture(scope="module")
def writes_sandbox() -> Iterator[Sandbox]:
    """A sandbox of our own (two tenants): these tests write."""
    with Sandbox(tenants=2, scale=2, seed=5, **UNLIMITED) as sb:
        yield sb


@pytest.fixture(scope="module")
def api(writes_sandbox: Sandbox) -> Iterator[Api]:
    client = Api(writes_sandbox)
    yield client
    client.close()


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def contacts_named(api: Api, name: str) -> int:
    answer = api.get("Contacts", where=f'Name=="{name}"', includeArchived="true")
    assert answer.status_code == 200, (answer.status_code, answer.headers, answer.text)
    body = parsed(answer)
    return len(body["Contacts"])


def test_replay_returns_the_stored_response_byte_for_byte(api: Api) -> None:
    headers = key()
    name = f"Idem {uuid.uuid4().hex[:8]}"
    first = api.put("Contacts", {"Name": name}, headers=headers)
    assert first.status_code == 200, first.text
    second = api.put("Contacts", {"Name": name}, headers=headers)
    assert second.status_code == 200
    assert second.content == first.content
    assert contacts_named(api, name) == 1  # one contact, not two (and not a duplicate-name error)


def test_a_stored_error_is_replayed_too(api: Api) -> None:
    headers = key()
    bad = invoice()
    bad.pop("Type")
    first = api.put("Invoices", bad, headers=headers)
    assert first.status_code == 400
    second = api.put("Invoices", bad, headers=headers)
    assert (second.status_code, second.content) == (400, first.content)


def test_same_key_with_another_request_is_refused(api: Api) -> None:
    headers = key()
    assert (
        api.put("Contacts", {"Name": f"One {uuid.uuid4().hex}"}, headers=headers).status_code == 200
    )
    for other in (
        api.put("Contacts", {"Name": f"Two {uuid.uuid4().hex}"}, headers=headers),  # body
        api.post("Contacts", {"Name": f"One {uuid.uuid4().hex}"}, headers=headers),  # method
        api.put("Invoices", invoice(), headers=headers),  # path
    ):
        assert other.status_code == 400
        body = parsed(other)
        assert body["Type"] == "ValidationException"
        assert MISMATCH in body["Message"]
        assert headers["Idempotency-Key"] in body["Message"]


def test_query_string_is_part_of_the_request(api: Api) -> None:
    headers = key()
    body = {"Name": f"Query {uuid.uuid4().hex}"}
    assert api.put("Contacts", body, headers=headers).status_code == 200
    answer = api.put("Contacts", body, headers=headers, params={"summarizeErrors": "false"})
    assert MISMATCH in parsed(answer)["Message"]


def test_keys_longer_than_128_characters_are_refused(api: Api) -> None:
    answer = api.put("Contacts", {"Name": "Too long"}, headers={"Idempotency-Key": "k" * 129})
    assert answer.status_code == 400
    assert "128" in parsed(answer)["Message"]
    fits = api.put(
        "Contacts", {"Name": f"Fits {uuid.uuid4().hex}"}, headers={"Idempotency-Key": "k" * 128}
    )
    assert fits.status_code == 200


def test_keys_are_scoped_per_tenant(writes_sandbox: Sandbox, api: Api) -> None:
    other = Api(writes_sandbox, writes_sandbox.tenant_ids()[1])
    try:
        headers = key()
        name = f"Scoped {uuid.uuid4().hex[:8]}"
        first = api.put("Contacts", {"Name": name}, headers=headers)
        second = other.put("Contacts", {"Name": name}, headers=headers)
        assert second.status_code == 200
        assert (
            parsed(second)["Contacts"][0]["ContactID"] != parsed(first)["Contacts"][0]["ContactID"]
        )
        assert contacts_named(other, name) == 1
    finally:
        other.close()


def test_keys_expire_after_the_scaled_window_and_survive_a_restart() -> None:
    # 360 sandbox seconds at --time-scale 45 last 8 real seconds: room for a restart under load.
    window = 360 / 45
    with Sandbox(tenants=1, scale=2, seed=5, time_scale=45, **UNLIMITED) as sb:
        api = Api(sb)
        headers = key()
        name = f"Expiring {uuid.uuid4().hex[:8]}"
        first = api.put("Contacts", {"Name": name}, headers=headers)
        stored_at = time.monotonic()
        api.close()
        sb.restart()
        api = Api(sb)
        try:
            replay = api.put("Contacts", {"Name": name}, headers=headers)
            assert time.monotonic() - stored_at < window, "restart outlasted the window"
            assert replay.content == first.content  # kept in SQLite across the restart
            time.sleep(max(0.0, stored_at + window + 0.5 - time.monotonic()))
            late = api.put("Contacts", {"Name": name}, headers=headers)
            assert late.status_code == 400  # processed afresh: the name is now taken
            assert "already assigned to another contact" in late.text
        finally:
            api.close()

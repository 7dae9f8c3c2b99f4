"""issue-7 §5: planted secrets never reach an output.

A client secret and a webhook key are planted in the sandbox; tap-xero syncs into target-xero
through faults and access tokens that live 3 seconds (so refresh tokens rotate during the run),
and two more runs fail on a dead refresh token and a dead access token. Every output is then
searched for every secret: stdout (records and STATE), stderr, the audit and rejects files,
the webhook deliveries and the error messages. Token stores may hold tokens, mode 0600 only.
"""

from __future__ import annotations

from pathlib import Path

from tests._reliability import secrets_scan


def test_no_secret_in_any_output_of_a_full_run(tmp_path: Path) -> None:
    run = secrets_scan(tmp_path)
    names = {p.name for p in run.scanned}
    # The scan covered every kind of output, and they were not empty.
    assert {"stdout.singer", "stderr.log", "audit.jsonl", "rejects.jsonl"} <= names
    assert {"stdout.txt", "stderr.txt", "webhook-events.json"} <= names
    by_name = {p.name: p for p in run.scanned}
    assert by_name["rejects.jsonl"].read_text().strip(), "the planted bad record was not rejected"
    assert by_name["audit.jsonl"].read_text().strip()
    assert '"type":"STATE"' in by_name["stdout.singer"].read_text().replace(" ", "")
    assert run.figures.notes["events"] > 0, "no webhook was delivered: the key was not exercised"
    assert len(run.secrets) >= 8
    assert run.figures.leaked == 0
    # The failing runs said what was wrong, without quoting a secret.
    assert all(run.failure_messages)
    assert "re-authorise" in run.failure_messages[0]
    # Token stores hold tokens by design, readable by their owner only.
    assert len(run.store_modes) == 2
    assert set(run.store_modes.values()) == {0o600}

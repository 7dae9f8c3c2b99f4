"""Regenerate the reliability figures in ``docs/sections/90-reliability.md``.

    make reliability        # or: .venv/bin/python -m tests.reliability_report [--out FILE]

Runs every scenario of ``tests._reliability`` (the same code the ``test_reliability_*`` and
``test_security_secrets`` tests run in ``make test``, where the zeros are asserted) against fresh
seeded sandboxes and writes the table. Takes about ten minutes on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests._reliability import Figures, iter_figures

OUT = Path(__file__).parents[1] / "docs" / "sections" / "90-reliability.md"

INTRO = """\
## Reliability and security

People trust a connector with their books, so we prove with seeded, reproducible runs that it
loses nothing, doubles nothing and leaks nothing under the faults Xero and networks produce.
Every row below comes from real `tap-xero` / `target-xero` processes talking HTTP to a
`xero-sandbox` on loopback; the sandbox injects the faults (`--fault-rate`: 500, 503 maintenance,
429 with `Retry-After`, connections dropped mid-body, responses that start only after 120 sandbox
seconds, access tokens expired early) and `--time-scale 600` makes every wait short (tokens live
3 s, so rotation happens many times per run). The same code runs in `make test`
(`tests/test_reliability_*.py`, `tests/test_security_*.py`), which asserts the zeros;
`make reliability` regenerates this table.
"""

NOTES = """\
How each row is counted:

- **tap sync, 10% faults**: invoices, journals and contacts of two Demo Companies, synced once
  without faults and once at a 10% fault rate. *Lost* = records of the clean run missing from,
  or different in, the faulty one (compared by `TenantID` + primary key and a hash of the whole
  record); *duplicated* = a key emitted twice in one run.
- **target load, 10% faults**: contacts and invoices (a third AUTHORISED) into an empty
  organisation, 10 of them naming a contact that exists nowhere. *Lost* = a good record not in
  Xero afterwards, or a record neither in the audit nor in the rejects file (the 10 are rejected
  with Xero-style reasons); *duplicated* = a natural key (invoice number, contact name) present
  twice in the organisation. Writes carry an `Idempotency-Key`, so a write retried after a dropped
  connection is answered with the first answer instead of writing twice.
- **tap SIGKILLed, resumed**: the tap is killed with `SIGKILL` at seeded points and restarted
  from the last `STATE` line it had fully written (what a target emits once the records before
  it are safe). *Lost* = a key of a clean run missing from the union of all runs. Records after
  the last STATE are emitted again by the next run (at-least-once, as Singer intends); the
  target's natural-key upserts absorb them.
- **target SIGKILLed, replayed**: the target is killed mid-batch at seeded points and the same
  input replayed each time, then once to the end. *Duplicated* = a document twice in Xero.
- **token store, N processes**: N processes share one token store and force refreshes until it
  is 1,000 generations on. *Records* = refreshes; *lost* = `invalid_grant` answers plus errors.
  The lock (`filelock`) makes every refresh happen once, stored before use.
- **secrets planted**: a planted client secret and webhook key, and every access and refresh
  token issued during a tap-to-target run with faults and rotation (plus runs failing on dead
  tokens); *leaked* = occurrences in any output: stdout (records and STATE), stderr logs, audit
  and rejects files, webhook deliveries and error messages. Token stores are the one place
  tokens live, at mode 0600.

Also covered by tests (no figure): a real `SIGKILL` between receiving a rotated token and
storing it recovers within Xero's 30-minute grace, and past the grace fails with one line saying
to run `xero-auth` (`test_reliability_tokens.py`); the bad-input corpus
(`tests/fixtures/bad_input/`, `test_reliability_bad_input.py`) gets a one-line error or a reject
with its reason for every case; bad config names the setting for both programs; plain `http://`
base URLs are refused unless the host is loopback (`test_security_urls.py`); webhook signatures
are checked with `hmac.compare_digest` over the raw body by `xero_api.webhooks.verify_signature`
(used by `examples/webhook_receiver.py`, which passes the sandbox's intent-to-receive
handshake); every value placed in a `where` clause is escaped and injection through contact
names, contact numbers and invoice numbers reaches no other document (`test_security_where.py`).
"""


def table(rows: list[Figures]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| scenario | records | faults injected | retries | lost | duplicated | leaked |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.records:,} | {row.faults_injected:,} | {row.retries:,} "
            f"| {row.lost} | {row.duplicated} | {row.leaked} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios, print each row as it comes, write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows: list[Figures] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        for figures in iter_figures(Path(tmp)):
            rows.append(figures)
            print(table([figures]).splitlines()[-1], figures.notes, flush=True)
    minutes = (time.monotonic() - started) / 60
    body = [
        INTRO,
        table(rows),
        "",
        f"Generated by `make reliability` in {minutes:.0f} minutes. Seeded: the same faults and\n"
        "kill points every time (retry counts can vary slightly with thread timing).",
        "",
        NOTES,
    ]
    args.out.write_text("\n".join(body))
    bad = [r for r in rows if r.lost or r.duplicated or r.leaked]
    print(f"wrote {args.out}; {len(bad)} scenario(s) with a non-zero lost/duplicated/leaked")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""issue-7 §1: faults lose nothing and double nothing.

A full tap sync of over 100,000 records (invoices, journals and contacts of two Demo Companies)
at a 10% fault rate (500, 503, 429, dropped connections, slow responses, early token expiry)
yields exactly the records of a clean run, compared by key and content; a target load of over
10,000 records under the same faults writes each record once or rejects it with a reason.
The scenarios live in ``tests._reliability`` and also feed ``make reliability``.
"""

from __future__ import annotations

from pathlib import Path

from tests._reliability import tap_under_faults, target_under_faults


def test_tap_sync_of_100k_records_under_10_percent_faults_equals_a_clean_run(
    tmp_path: Path,
) -> None:
    figures = tap_under_faults(tmp_path)
    assert figures.records >= 100_000, figures
    assert figures.faults_injected > 0, "no fault was injected: the test proves nothing"
    assert len(figures.notes["fault_kinds"]) == 6, figures.notes  # every kind happened
    assert figures.retries > 0
    assert figures.notes["faulty_records"] == figures.records
    assert figures.lost == 0, figures
    assert figures.duplicated == 0, figures


def test_target_load_of_10k_records_under_10_percent_faults_writes_each_once(
    tmp_path: Path,
) -> None:
    figures = target_under_faults(tmp_path)
    assert figures.records >= 10_000, figures
    assert figures.faults_injected > 0, "no fault was injected: the test proves nothing"
    assert figures.retries > 0
    assert figures.notes["covered"], "audit and rejects do not account for every record"
    assert figures.notes["rejected_with_reason"] == 10  # the invoices naming nobody
    assert figures.lost == 0, figures
    assert figures.duplicated == 0, figures

"""issue-7 §2: crashes leave no gaps and no doubles.

The tap is SIGKILLed at 20 seeded points and each run resumes from the last STATE line it had
fully written (what a target emits once the records before it are safe); the union of the runs
equals a clean run. The target is SIGKILLed mid-batch at seeded points and re-run on the same
input each time; the organisation ends with every document exactly once.
"""

from __future__ import annotations

from pathlib import Path

from tests._reliability import tap_killed_and_resumed, target_killed_and_replayed


def test_tap_killed_20_times_and_resumed_from_state_has_no_gap(tmp_path: Path) -> None:
    figures = tap_killed_and_resumed(tmp_path, kills=20)
    assert figures.notes["kills"] >= 20
    assert figures.records > 3_000
    assert figures.lost == 0, figures  # nothing missing and nothing different from a clean run


def test_target_killed_mid_batch_and_replayed_creates_no_duplicates(tmp_path: Path) -> None:
    figures = target_killed_and_replayed(tmp_path, kills=5)
    assert figures.notes["kills"] >= 4  # a seeded kill point can fall after a short run ends
    assert figures.duplicated == 0, figures
    assert figures.lost == 0, figures

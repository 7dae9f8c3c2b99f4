"""The docs cannot drift: every marked example in README.md and docs/ runs, and prints its sample.

How blocks are marked and how sample outputs are regenerated: ``tests/docs_examples.py`` and
docs/contributing.md. Each page runs in a temporary directory against a fresh sandbox with Xero's
real limits, and must stay inside them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.docs_examples import (
    REPO,
    Block,
    Table,
    anchor,
    blocks,
    check_table,
    command_blocks,
    contents,
    environment,
    headings,
    index,
    matches,
    pages,
    run_command_block,
    run_page,
    run_shell,
    tables,
)

RUNNABLE = [p for p in pages() if any(b.mark("run") for b in blocks(p))]
COMMANDS = [b for p in pages() for b in command_blocks(p)]
LINK = re.compile(r"\]\((?!https?://|mailto:)([^)\s]*)\)")


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: str(p.relative_to(REPO)))
def test_page_examples_run_and_print_their_samples(page: Path, tmp_path: Path) -> None:
    outcomes = run_page(page, tmp_path)
    problems = [f"{p}\n{o.stderr[-1500:]}" for o in outcomes for p in o.problems]
    assert not problems, "\n".join(problems) + "\n(rewrite samples: make docs-examples)"


@pytest.mark.parametrize("block", COMMANDS, ids=lambda b: f"{b.where} {b.cmd}")
def test_command_sample_output_matches(block: Block, tmp_path: Path) -> None:
    outcome = run_command_block(block, tmp_path)
    assert not outcome.problems, "\n".join(outcome.problems) + "\n" + outcome.stderr[-1500:]


TABLES = [t for p in pages() for t in tables(p)]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.where)
def test_generated_tables_match_their_commands(table: Table, tmp_path: Path) -> None:
    problems = check_table(table, tmp_path, update=False)
    assert not problems, "\n".join(problems) + " (rewrite it: make docs-examples)"


def test_docs_have_runnable_examples() -> None:
    assert len(RUNNABLE) >= 3, RUNNABLE
    assert COMMANDS, "the README's make demo sample should be checked"
    assert TABLES, "the tap's settings table should be checked"


def anchors(page: Path) -> set[str]:
    return {anchor(heading) for _, heading in headings(page)}


def prose(page: Path) -> str:
    """A page without its fenced blocks (commands may name folders they make)."""
    return re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in pages():
        for target in LINK.findall(prose(page)):
            file_part, _, fragment = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.exists():
                broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
            elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_contents_lists_match_their_pages() -> None:
    stale = []
    for page in pages():
        wanted = contents(page)
        if wanted is not None and wanted not in page.read_text():
            stale.append(str(page.relative_to(REPO)))
    assert not stale, f"out of date: {stale} (rewrite them: make docs-examples)"


def test_every_docs_page_is_in_the_index() -> None:
    index = (REPO / "docs" / "README.md").read_text()
    missing = [p.name for p in pages()[1:] if p.name != "README.md" and f"]({p.name})" not in index]
    assert not missing, f"add to docs/README.md: {missing}"


def test_index_lists_every_section() -> None:
    docs_index = REPO / "docs" / "README.md"
    assert index(docs_index) == docs_index.read_text(), "rewrite it: make docs-examples"


CLIMBING_PATH = re.compile(r"(?:\.\./)+[\w.-]+")


def test_no_page_cites_files_outside_the_repository() -> None:
    """A reader's clone has nothing beside it: a path that climbs (``../x``) names a file of
    the repository, seen from the page."""
    citing = []
    for page in pages():
        for path in CLIMBING_PATH.findall(prose(page)):
            seen = (page.parent / path).resolve()
            if not (seen.is_relative_to(REPO) and seen.exists()):
                citing.append(f"{page.relative_to(REPO)}: {path}")
    assert not citing, "\n".join(citing)


@pytest.mark.parametrize(
    ("expected", "actual", "fits"),
    [
        ("a 1\nb 2\n", "a 1\nb 2\n", True),
        ("a 1\nb 2\n", "a 1\nb 3\n", False),
        ("took … s\n", "took 1.5 s\n", True),
        ("…\nlast\n", "x\ny\nlast\n", True),
        ("…\nlast\n", "last\n", True),
        ("first\n…\n", "first\n", True),
        ("a\nb\n", "a\nb\nc\n", False),
        ("col   \n", "col\n", True),
    ],
)
def test_sample_matching(expected: str, actual: str, fits: bool) -> None:
    assert matches(expected, actual) is fits


def test_readme_settings_summary_names_real_settings(tmp_path: Path) -> None:
    known: set[str] = set()
    for program in ("tap-xero", "target-xero"):
        done = run_shell(f"{program} --about --format=json", REPO, environment(tmp_path, None))
        known |= set(json.loads(done.stdout)["settings"]["properties"])
    readme = (REPO / "README.md").read_text()
    start = readme.index("## Settings")
    summary = readme[start : readme.index("\n## ", start + 1)]
    named = {
        n
        for row in summary.splitlines()
        if row.startswith("| `")
        for n in re.findall(r"`(\w+)`", row.split("|")[1])
    }
    assert named, "the README's settings summary should name settings"
    assert not named - known, f"not settings of tap-xero or target-xero: {sorted(named - known)}"

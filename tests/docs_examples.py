"""Run the marked shell examples of ``README.md`` and ``docs/``, and check or rewrite their output.

    make docs-examples      # = .venv/bin/python -m tests.docs_examples --update

Fenced blocks are marked in their info string, after the language (GitHub shows only the
language, so the marks stay invisible to readers):

- ```` ```sh setup ````: what a reader does before a page's examples (start a sandbox, set
  ``XERO_SANDBOX_URL``). It must read exactly ``SETUP``; the runner does the same itself.
- ```` ```sh run ````: run with bash (``-euo pipefail``) in the page's temporary directory, one
  directory and one fresh sandbox per page, blocks in page order; it must exit 0.
- ```` ```text output ````: what the ``run`` block before it prints on stdout.
- ```` ```text output cmd="make demo" ````: what that command prints when run in the checkout.
- ```` ```sh run in-checkout ````: run in the checkout itself, with no sandbox (it must not write).
- ``<!-- output cmd="tap-xero --about --format=markdown" omit="stream_map" -->``, a Markdown
  table, then ``<!-- /output -->``: the table that command prints with the same header row,
  less the rows whose first cell starts with an ``omit`` word.

In an ``output`` block, ``…`` matches any text within a line, and a line that is only ``…``
matches any number of lines. ``--update`` rewrites every output block that no longer matches
with what the command printed (abridge it again by hand with ``…`` where it varies), and every
page's ``## Contents`` list (and docs/README.md's section lists) with the pages' ``##`` headings.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from xero_sandbox.launcher import Sandbox

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
ELLIPSIS = "…"
SETUP = (
    "xero-sandbox serve --db docs-sandbox.db &    # a fresh one: rm -f docs-sandbox.db first\n"
    "export XERO_SANDBOX_URL=http://127.0.0.1:8765\n"
)
BLOCK_TIMEOUT_S = 300
FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`]*)$")
TABLE_REGION = re.compile(
    r"<!-- output (?P<marks>.*?) -->\n(?P<body>.*?)<!-- /output -->", re.DOTALL
)


@dataclass
class Block:
    """One fenced code block: where it is, its info string's words and its text."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    marks: list[str]
    text: str
    indent: int = 0  # spaces before the fence, taken off every line of ``text``
    output: Block | None = None  # the ``output`` block that belongs to this ``run`` block

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    def mark(self, name: str) -> bool:
        return name in self.marks

    @property
    def cmd(self) -> str | None:
        """The ``cmd="..."`` of an output block, if any."""
        for word in self.marks:
            if word.startswith("cmd="):
                return word[len("cmd=") :]
        return None


@dataclass
class Outcome:
    """What a block printed and whether it passed."""

    block: Block
    returncode: int
    stdout: str
    stderr: str
    problems: list[str] = field(default_factory=list)


def pages(root: Path = REPO) -> list[Path]:
    """Every page whose examples are run: the README and everything under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path``, each ``run`` block linked to the ``output`` block after it."""
    found: list[Block] = []
    lines = path.read_text().splitlines(keepends=True)
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index].strip())
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        words = shlex.split(opening["info"]) if opening["info"].strip() else []
        end = index + 1
        while end < len(lines) and lines[end].rstrip("\n").strip() != fence:
            end += 1
        if end == len(lines):
            raise SystemExit(f"{path}:{index + 1}: code block never closed")
        indent = len(lines[index]) - len(lines[index].lstrip())  # a block inside a list item
        text = "".join(
            line[indent:] if not line[:indent].strip() else line.lstrip()
            for line in lines[index + 1 : end]
        )
        language = words[0] if words else ""
        found.append(Block(path, index + 1, language, words[1:], text, indent))
        index = end + 1
    for previous, block in itertools.pairwise(found):
        if block.mark("output") and block.cmd is None and previous.mark("run"):
            previous.output = block
    return found


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(path: Path) -> list[tuple[int, str]]:
    """(level, text) of every Markdown heading of ``path`` outside code blocks."""
    found, fence = [], ""
    for line in path.read_text().splitlines():
        opening = FENCE.match(line.strip())
        if opening and (not fence or (opening["fence"] == fence and not opening["info"].strip())):
            fence = "" if fence else opening["fence"]
        elif not fence and (heading := re.match(r"(#{1,6}) (.+)", line)):
            found.append((len(heading[1]), heading[2].strip()))
    return found


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` fits ``expected``, ``…`` standing for what varies (see the module doc)."""
    parts = []
    for line in expected.rstrip("\n").splitlines():
        line = line.rstrip()
        if line == ELLIPSIS:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = (re.escape(piece) for piece in line.split(ELLIPSIS))
            parts.append("[^\n]*?".join(pieces) + r"[ \t]*\n")
    pattern = "".join(parts)
    text = "".join(line.rstrip() + "\n" for line in actual.rstrip("\n").splitlines())
    return re.fullmatch(pattern, text) is not None


def environment(home: Path, sandbox_url: str | None) -> dict[str, str]:
    """What a reader's shell has after activating ``.venv`` (and starting a sandbox)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_XERO", "TARGET_XERO"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), COLUMNS="80")
    env["VIRTUAL_ENV"] = str(BIN.parent)
    if sandbox_url:
        env["XERO_SANDBOX_URL"] = sandbox_url
    return env


def run_shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``script`` under bash with errors on, as a reader would paste it."""
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        check=False,
    )


def judge(block: Block, expected: Block | None, done: subprocess.CompletedProcess[str]) -> Outcome:
    """The outcome of one run: exit status 0, and stdout fitting the sample output if any."""
    outcome = Outcome(block, done.returncode, done.stdout, done.stderr)
    if done.returncode != 0:
        outcome.problems.append(f"{block.where}: exit status {done.returncode}")
    if expected is not None and not matches(expected.text, done.stdout):
        outcome.problems.append(f"{expected.where}: sample output differs from what it prints")
    return outcome


@contextmanager
def page_sandbox(workdir: Path) -> Iterator[Sandbox]:
    """A fresh sandbox as ``xero-sandbox serve`` starts one by default (two Demo Companies)."""
    with Sandbox(db=workdir / "docs-sandbox.db") as sandbox:
        yield sandbox


def run_page(path: Path, workdir: Path) -> list[Outcome]:
    """Run every ``run`` block of ``path`` in order, in ``workdir``, against one fresh sandbox.

    Blocks marked ``in-checkout`` run in the checkout instead, without a sandbox.
    """
    page = blocks(path)
    runs = [b for b in page if b.mark("run")]
    outcomes = [
        judge(b, b.output, run_shell(b.text, REPO, environment(workdir, None)))
        for b in runs
        if b.mark("in-checkout")
    ]
    runs = [b for b in runs if not b.mark("in-checkout")]
    if not runs:
        return outcomes
    setups = [b for b in page if b.mark("setup")]
    if not setups or setups[0].line > runs[0].line:
        raise AssertionError(f"{runs[0].where}: a `sh setup` block must come before the first run")
    for setup in setups:
        if setup.text != SETUP:
            raise AssertionError(f"{setup.where}: a setup block must read exactly:\n{SETUP}")
    with page_sandbox(workdir) as sandbox:
        env = environment(workdir, sandbox.url)
        for block in runs:
            outcome = judge(block, block.output, run_shell(block.text, workdir, env))
            outcomes.append(outcome)
            if outcome.returncode != 0:
                break
        refused = sandbox.stats().get("rate_limited") or {}
        if refused:
            outcomes[-1].problems.append(
                f"{path.relative_to(REPO)}: its examples went over Xero's limits: 429 {refused}"
            )
    return outcomes


def contents(path: Path) -> str | None:
    """The ``## Contents`` list ``path`` should have (its ``##`` headings), if it has one."""
    titles = [text for level, text in headings(path) if level == 2]
    if "Contents" not in titles:
        return None
    items = "".join(f"- [{t}](#{anchor(t)})\n" for t in titles if t != "Contents")
    return f"## Contents\n\n{items}\n"


def index(path: Path) -> str:
    """``docs/README.md`` with the section list under each page's entry made from its headings.

    A page's entry is a line ``- **[Title](page.md)**: what it is``; the indented lines after it
    are its ``##`` sections (``Contents`` left out).
    """
    out: list[str] = []
    lines = path.read_text().splitlines(keepends=True)
    entry = re.compile(r"- \*\*\[.*?\]\(([^)#]+\.md)\)\*\*")
    skipping = False
    for line in lines:
        if skipping and line.startswith("  - "):
            continue
        skipping = False
        out.append(line)
        if found := entry.match(line):
            page = path.parent / found[1]
            titles = [h for level, h in headings(page) if level == 2 and h != "Contents"]
            out += [f"  - [{h}]({found[1]}#{anchor(h)})\n" for h in titles]
            skipping = True
    return "".join(out)


def rewrite_contents(path: Path) -> bool:
    """Bring the page's ``## Contents`` list in line with its headings; whether it changed."""
    wanted = contents(path)
    if wanted is None:
        return False
    text = path.read_text()
    start = text.index("## Contents\n")
    end = text.index("\n## ", start) + 1
    fresh = text[:start] + wanted + text[end:]
    if fresh != text:
        path.write_text(fresh)
        print(f"rewrote the contents of {path.relative_to(REPO)}")
    return fresh != text


def command_blocks(path: Path) -> list[Block]:
    """The ``output cmd=...`` blocks of ``path``: sample output of a command run in the checkout."""
    return [b for b in blocks(path) if b.mark("output") and b.cmd is not None]


def run_command_block(block: Block, home: Path) -> Outcome:
    """Run the block's command in the checkout and compare with the block."""
    assert block.cmd is not None
    return judge(block, block, run_shell(block.cmd, REPO, environment(home, None)))


@dataclass
class Table:
    """A Markdown table a command prints, copied into a page between region markers."""

    path: Path
    cmd: str
    omit: list[str]  # rows whose first cell starts with one of these are left out of the copy
    body: str  # the table as the page has it

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)} ({self.cmd})"

    def expected(self, printed: str) -> str | None:
        """The table in ``printed`` whose header is the copy's first line, minus omitted rows."""
        header = self.body.splitlines()[0].rstrip() if self.body.strip() else ""
        lines = [line.rstrip() for line in printed.splitlines()]
        if header not in lines:
            return None
        rows = itertools.takewhile(lambda line: line.startswith("|"), lines[lines.index(header) :])
        kept = [r for r in rows if not r.strip("| ").startswith(tuple(self.omit or ["\0"]))]
        return "".join(row + "\n" for row in kept)


def tables(path: Path) -> list[Table]:
    """The generated tables of ``path``, each between ``<!-- output ... -->`` and its end."""
    found = []
    for region in TABLE_REGION.finditer(path.read_text()):
        words = dict(word.split("=", 1) for word in shlex.split(region["marks"]))
        found.append(Table(path, words["cmd"], words.get("omit", "").split(), region["body"]))
    return found


def check_table(table: Table, home: Path, update: bool) -> list[str]:
    """Problems with ``table`` against what its command prints now (rewritten with ``update``)."""
    done = run_shell(table.cmd, REPO, environment(home, None))
    expected = table.expected(done.stdout)
    if done.returncode != 0 or expected is None:
        return [f"{table.where}: the command failed or printed no such table"]
    if expected == table.body:
        return []
    if update:
        text = table.path.read_text()
        table.path.write_text(text.replace(table.body, expected, 1))
        print(f"rewrote the table of {table.where}")
        return []
    return [f"{table.where}: the table differs from what the command prints"]


def rewrite(outcomes: list[Outcome]) -> int:
    """Replace the output blocks that no longer fit with what their commands printed."""
    changed = 0
    for outcome in outcomes:
        sample = outcome.block if outcome.block.cmd else outcome.block.output
        if sample is None or outcome.returncode != 0 or matches(sample.text, outcome.stdout):
            continue
        lines = sample.path.read_text().splitlines(keepends=True)
        body = lines[sample.line : sample.line + len(sample.text.splitlines())]
        assert "".join(b.strip() for b in body) == "".join(
            s.strip() for s in sample.text.splitlines()
        ), f"{sample.where} changed while running"
        pad = " " * sample.indent
        printed = outcome.stdout.rstrip("\n").splitlines()
        fresh = "".join((pad + line).rstrip() + "\n" for line in printed)
        lines[sample.line : sample.line + len(body)] = [fresh]
        sample.path.write_text("".join(lines))
        print(f"rewrote {sample.where}")
        changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    """Run every marked example; report (or with --update, rewrite) outputs that drifted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--update", action="store_true", help="rewrite drifted sample outputs")
    parser.add_argument("pages", nargs="*", type=Path, help="pages to run (default: all)")
    args = parser.parse_args(argv)
    targets = [p.resolve() for p in args.pages] or pages()
    outcomes: list[Outcome] = []
    for path in targets:
        with tempfile.TemporaryDirectory(prefix="docs-examples-") as tmp:
            outcomes += run_page(path, Path(tmp))
            for block in command_blocks(path):
                outcomes.append(run_command_block(block, Path(tmp)))
    with tempfile.TemporaryDirectory(prefix="docs-tables-") as tmp:
        table_problems = [
            p
            for path in targets
            for table in tables(path)
            for p in check_table(table, Path(tmp), args.update)
        ]
    problems = [p for o in outcomes for p in o.problems] + table_problems
    for problem in table_problems:
        print(problem, file=sys.stderr)
    if args.update:
        # Rewrite bottom-up within a page so earlier line numbers stay right.
        rewrite(sorted(outcomes, key=lambda o: (str(o.block.path), -o.block.line)))
        for path in targets:
            rewrite_contents(path)
        docs_index = REPO / "docs" / "README.md"
        if docs_index.read_text() != (fresh_index := index(docs_index)):
            docs_index.write_text(fresh_index)
            print("rewrote the section lists of docs/README.md")
    for outcome in outcomes:
        for problem in outcome.problems:
            print(problem, file=sys.stderr)
            if outcome.returncode != 0:
                print(outcome.stderr[-2000:], file=sys.stderr)
    print(f"{len(outcomes)} examples run, {len(problems)} problem(s)")
    return 1 if problems and not args.update else 0


if __name__ == "__main__":
    sys.exit(main())

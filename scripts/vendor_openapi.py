"""Write ``openapi/<spec>.json`` from Xero's official OpenAPI specs (XeroAPI/Xero-OpenAPI).

Usage: ``python scripts/vendor_openapi.py SPEC_DIR [--check]`` (``make openapi`` / ``make
spec-check``); SPEC_DIR defaults to ``$XERO_OPENAPI_DIR``. SPEC_DIR holds the YAML files as
published (a checkout of that repository, or a verbatim copy with a ``SOURCE.md`` naming the
commit).

Each spec is kept whole (every path, operation and component) minus its prose: ``description``,
``summary``, ``example``, ``examples``, ``externalDocs`` and code samples (``x-example*``) are
dropped wherever they are keywords (but a response's required ``description``), never where
they name a property, parameter or response.
Validation does not read them, and they are 30-75% of the text. YAML timestamps stay strings
and mapping keys become strings, as JSON needs. ``openapi/SOURCE.json`` records each file's
title, version and git blob SHA-1, the source commit, and the licence (MIT, ``openapi/LICENSE``).
With ``--check`` nothing is written; any difference from the committed files is listed and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "openapi"
SOURCE_REPOSITORY = "https://github.com/XeroAPI/Xero-OpenAPI"
SPECS = (
    "xero_accounting.yaml",
    "xero-identity.yaml",
    "xero-webhooks.yaml",
    "xero-payroll-au.yaml",
    "xero-payroll-uk.yaml",
    "xero-payroll-nz.yaml",
    "xero_assets.yaml",
    "xero-projects.yaml",
    "xero_files.yaml",
)
PROSE = frozenset({"description", "summary", "example", "examples", "externalDocs"})
# Keywords whose value maps names (of properties, paths, responses...) to objects: a key there
# is a name, even when it is spelt like a prose keyword.
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "paths",
        "webhooks",
        "schemas",
        "responses",
        "parameters",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "content",
        "encoding",
        "variables",
        "scopes",
        "mapping",
        "pathItems",
        "$defs",
        "definitions",
    }
)
COMMIT_IN_SOURCE_MD = re.compile(r"commit `([0-9a-f]{40})`")


class _SpecLoader(yaml.CSafeLoader):
    """Safe YAML without implicit timestamps: dates in the specs stay the strings they are."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def without_prose(node: Any, *, names_of: str = "") -> Any:
    """``node`` minus prose keywords; ``names_of`` is set when the keys of ``node`` are names
    (of properties, responses...): the keyword whose value ``node`` is."""
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {}
    for key, value in node.items():
        name = str(key)
        if names_of:
            # A Response object must have its description (OpenAPI 3.0 and 3.1): it stays.
            kept[name] = without_prose(value) if names_of != "responses" else _response(value)
        elif name not in PROSE and not name.startswith("x-example"):
            kept[name] = without_prose(value, names_of=name if name in NAME_MAPS else "")
    return kept


def _response(response: Any) -> Any:
    kept = without_prose(response)
    if isinstance(response, dict) and "description" in response:
        kept = {"description": response["description"], **kept}
    return kept


def blob_sha1(data: bytes) -> str:
    """The git blob SHA-1 of a file's bytes (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def source_commit(spec_dir: Path) -> str:
    """The Xero-OpenAPI commit the files come from: ``SOURCE.md`` of a copy, or git's HEAD."""
    source_md = spec_dir / "SOURCE.md"
    if source_md.is_file():
        found = COMMIT_IN_SOURCE_MD.search(source_md.read_text(encoding="utf-8"))
        if found:
            return found.group(1)
    done = subprocess.run(
        ["git", "-C", str(spec_dir), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return done.stdout.strip()
    raise SystemExit(
        f"vendor_openapi: cannot tell which commit {spec_dir} is: neither a git checkout "
        "nor a SOURCE.md naming the commit (pass --commit)"
    )


def render(document: Any) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def generate(spec_dir: Path, commit: str) -> dict[str, str]:
    """File name -> text of every file this script owns in ``openapi/``."""
    files: dict[str, str] = {}
    recorded: dict[str, Any] = {}
    for name in SPECS:
        path = spec_dir / name
        if not path.is_file():
            raise SystemExit(f"vendor_openapi: spec not found: {path}")
        data = path.read_bytes()
        document = yaml.load(data, Loader=_SpecLoader)  # noqa: S506 - a CSafeLoader
        json_name = f"{Path(name).stem}.json"
        files[json_name] = render(without_prose(document))
        recorded[json_name] = {
            "source": name,
            "git_blob_sha1": blob_sha1(data),
            "openapi": document.get("openapi"),
            "title": document["info"]["title"],
            "version": document["info"]["version"],
        }
    files["SOURCE.json"] = render(
        {
            "repository": SOURCE_REPOSITORY,
            "commit": commit,
            "licence": "MIT, Copyright (c) 2017 Xero Developer API (LICENSE in this folder)",
            "made_by": "scripts/vendor_openapi.py: each spec whole, minus "
            + ", ".join(sorted(PROSE))
            + " and x-example* (documentation and code samples validation does not read)",
            "files": recorded,
        }
    )
    return files


def differences(files: dict[str, str], out: Path) -> list[str]:
    """What differs between ``files`` and the committed ``out`` folder (one line each)."""
    problems = []
    for name, text in files.items():
        committed = out / name
        if not committed.is_file():
            problems.append(f"missing: {committed}")
        elif committed.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {committed}")
    owned = {*files, "LICENSE"}
    problems += [f"not generated: {p}" for p in sorted(out.glob("*")) if p.name not in owned]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "spec_dir",
        nargs="?",
        type=Path,
        default=os.environ.get("XERO_OPENAPI_DIR"),
        help="folder of Xero's OpenAPI YAML files (default: $XERO_OPENAPI_DIR)",
    )
    parser.add_argument("--commit", help="the Xero-OpenAPI commit the files come from")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    if args.spec_dir is None:
        parser.error("pass the folder of Xero's OpenAPI specs or set XERO_OPENAPI_DIR")
    spec_dir = Path(args.spec_dir)
    if not spec_dir.is_dir():
        parser.error(f"not a folder: {spec_dir}")
    files = generate(spec_dir, args.commit or source_commit(spec_dir))
    if args.check:
        problems = differences(files, args.out)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `make openapi XERO_OPENAPI_DIR=...` and commit the result", file=sys.stderr)
            return 1
        print(f"{args.out}: {len(files)} files match {spec_dir}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        with tempfile.NamedTemporaryFile("w", dir=args.out, delete=False, encoding="utf-8") as tmp:
            tmp.write(text)
        Path(tmp.name).chmod(0o644)
        Path(tmp.name).replace(args.out / name)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

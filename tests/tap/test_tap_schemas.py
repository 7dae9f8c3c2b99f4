"""The committed stream schemas: generated from the official spec, and tolerant."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xero_api.resources import RESOURCES
from xero_api.schema_files import load_schema, schema_dir

REPO = Path(__file__).resolve().parents[2]
REPORT_STREAMS = ("report_trial_balance", "report_profit_and_loss", "report_balance_sheet")
ALL_STREAMS = [r.stream for r in RESOURCES] + list(REPORT_STREAMS) + ["attachments"]


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.get("properties", {}).items():
            yield from _walk(value, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            yield from _walk(node["items"], f"{path}[]")


def test_committed_schemas_match_the_generator(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_schemas.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = sorted(p.name for p in tmp_path.glob("*.json"))
    assert generated == sorted(f"{s}.json" for s in ALL_STREAMS)
    for name in generated:
        committed = (schema_dir() / name).read_text(encoding="utf-8")
        assert committed == (tmp_path / name).read_text(encoding="utf-8"), f"{name} is stale"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_schema_is_tolerant(stream: str) -> None:
    schema = load_schema(stream)
    assert schema["properties"]["TenantID"] == {"type": "string"}
    for path, node in _walk(schema):
        assert node.get("additionalProperties") is not False, path
        assert "enum" not in node, path
        if path.count(".") >= 1 and node.get("type") is not None and path != ".TenantID":
            assert "null" in node["type"] or path in (
                ".RowKey",
                ".Report",
                ".PeriodStart",
                ".RowNumber",
            ), path


def test_dates_are_date_time_and_money_is_number() -> None:
    invoice = load_schema("invoices")["properties"]
    for field in ("Date", "DueDate", "UpdatedDateUTC", "FullyPaidOnDate"):
        assert invoice[field] == {"type": ["string", "null"], "format": "date-time"}, field
    for field in ("Total", "SubTotal", "AmountDue", "CurrencyRate"):
        assert invoice[field] == {"type": ["number", "null"]}, field
    line = invoice["LineItems"]["items"]["properties"]
    assert line["UnitAmount"] == {"type": ["number", "null"]}
    assert line["Quantity"] == {"type": ["number", "null"]}
    # Every replication key the SDK bookmarks on is a timestamp (or Journals' integer).
    for resource in RESOURCES:
        if resource.read.replication_key:
            prop = load_schema(resource.stream)["properties"][resource.read.replication_key]
            expected = "integer" if resource.read.replication_key == "JournalNumber" else "string"
            assert expected in prop["type"], resource.stream
            if expected == "string":
                assert prop["format"] == "date-time", resource.stream


def test_recursion_is_cut_shallow() -> None:
    payments = load_schema("invoices")["properties"]["Payments"]["items"]["properties"]
    # An invoice's payment points back at an invoice: kept as a loose object, not expanded.
    assert payments["Invoice"] == {"type": ["object", "null"]}
    sizes = {p.name: p.stat().st_size for p in schema_dir().glob("*.json")}
    assert max(sizes.values()) < 200_000, sizes


def test_schema_files_are_plain_json() -> None:
    for stream in ALL_STREAMS:
        text = (schema_dir() / f"{stream}.json").read_text(encoding="utf-8")
        assert "description" not in json.loads(text).get("properties", {}).get("TenantID", {})
        assert '"example' not in text


def test_generator_names_a_missing_spec(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "generate_schemas.py"),
            str(missing),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert f"spec not found: {missing}" in done.stderr
    assert "Traceback" not in done.stderr

"""Generate ``schemas/<stream>.json`` from Xero's official OpenAPI specs (``make schemas``).

Usage: ``python scripts/generate_schemas.py [SPEC] [--out DIR]``; SPEC defaults to
``openapi/xero_accounting.json`` and the other APIs' specs are read from the same folder. Each
row's item schema is resolved in its API's spec and made tolerant of Xero's frequent changes
(the rules are listed in docs/tap.md, "Schemas"); the report streams and ``attachments`` are
declared by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xero_api.resources import (  # noqa: E402
    ACCOUNTING,
    REPORTS,
    RESOURCES,
    Resource,
    lineage,
    resource_for_stream,
    settled_root,
)

DEFAULT_SPEC = REPO / "openapi" / "xero_accounting.json"
MAX_DEPTH = 3  # top-level record = 0; deeper objects are loose
# Flagged x-is-msdate in the spec, but Xero's own example (and what Xero sends) is "2019-08".
PLAIN_STRINGS = {("BudgetBalance", "Period")}
# Xero sends an ISO helper string next to these dates (`DateString`, ...),
# which spec 16.1.0 declares only on some schemas.
HELPER_STRINGS = ("Date", "DueDate", "ExpiryDate", "CreatedDateUTC", "UpdatedDateUTC")
# Timestamps the Files spec declares as plain strings (its examples, "2021-02-10T16:02:54.9930000",
# are UTC without a zone); as date-time the tap writes them as ISO 8601 UTC like every other date.
ISO_DATE_STRINGS = {("FileObject", "CreatedDateUtc"), ("FileObject", "UpdatedDateUtc")}
# Sent by Xero on these records but missing from spec 16.1.0.
KNOWN_EXTRAS = {"CreditNote": ("TotalDiscount",)}

Schema = dict[str, Any]

DATE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
LOOSE_OBJECT: Schema = {"type": ["object", "null"]}


def _nullable(types: str | list[str]) -> list[str]:
    listed = [types] if isinstance(types, str) else list(types)
    return [*listed, "null"] if "null" not in listed else listed


class Converter:
    """Resolves ``$ref``s of one spec and rewrites them into tolerant JSON Schema."""

    def __init__(self, spec: dict[str, Any], *, iso_dates: bool = False) -> None:
        self.spec = spec
        self.components: dict[str, Any] = spec["components"]["schemas"]
        self.iso_dates = iso_dates  # keep `format: date-time` on strings (not Accounting's)

    def ref_name(self, ref: str) -> str:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref!r}")
        return ref[len(prefix) :]

    def convert(self, node: dict[str, Any], depth: int, stack: tuple[str, ...]) -> Schema:
        """Tolerant JSON Schema for one spec node."""
        if "$ref" in node:
            name = self.ref_name(node["$ref"])
            target = self.components[name]
            is_object = "properties" in target or target.get("type") == "object"
            if is_object and (name in stack or depth >= MAX_DEPTH):
                return dict(LOOSE_OBJECT)
            return self.convert(target, depth, (*stack, name) if is_object else stack)
        if "allOf" in node:
            merged: Schema = {"type": ["object", "null"], "properties": {}}
            for part in node["allOf"]:
                sub = self.convert(part, depth, stack)
                merged["properties"].update(sub.get("properties", {}))
            return merged
        if node.get("x-is-msdate") or node.get("x-is-msdate-time"):
            return dict(DATE_TIME)
        kind = node.get("type")
        if kind == "array":
            items = node.get("items", {})
            return {"type": ["array", "null"], "items": self.convert(items, depth, stack)}
        if kind == "object" or "properties" in node:
            if depth >= MAX_DEPTH and depth > 0:
                return dict(LOOSE_OBJECT)
            owner = stack[-1] if stack else ""
            props = {
                key: {"type": ["string", "null"]}
                if (owner, key) in PLAIN_STRINGS
                else dict(DATE_TIME)
                if (owner, key) in ISO_DATE_STRINGS
                else self.convert(value, depth + 1, stack)
                for key, value in node.get("properties", {}).items()
            }
            return {"type": ["object", "null"], "properties": props}
        if kind == "string" and self.iso_dates and node.get("format") == "date-time":
            return dict(DATE_TIME)
        if kind in ("string", "number", "integer", "boolean"):
            return {"type": _nullable(kind)}
        # Untyped nodes (rare in the spec) accept anything.
        return {}

    def item_schema(self, resource: Resource) -> Schema:
        """The record schema of one resource's GET collection."""
        operation = self.spec["paths"][f"/{resource.read.path or resource.path}"]["get"]
        content = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if not resource.envelope:  # the answer is the list, or the one object, itself
            items_ref = content.get("items", content)
        else:
            envelope = self.components[self.ref_name(content["$ref"])]
            listed = envelope["properties"][resource.envelope]
            if "$ref" in listed:  # a named list (Payroll UK/NZ's `EmployeeLeaveBalances`)
                named = self.components[self.ref_name(listed["$ref"])]
                listed = named if named.get("type") == "array" else listed
            items_ref = listed.get("items", listed)  # a list, or one object (PayItems)
        record = self.convert(items_ref, 0, ())
        plan = resource.read
        if plan.nested:  # the records are a list inside each element (a pay run's payslips)
            record = record["properties"][plan.nested]["items"]
        if plan.parent and plan.parent.carried_as not in record["properties"]:  # the tap adds it
            record["properties"][plan.parent.carried_as] = {"type": ["string", "null"]}
        if plan.parent and plan.parent.carries:  # the parent's fields, as the parent has them
            parent = self.item_schema(resource_for_stream(plan.parent.stream))["properties"]
            for name in plan.parent.carries:
                record["properties"].setdefault(name, parent[name])
        if settled_root(resource):  # bookmarked on its root: the tap adds both
            root = lineage(resource)[-1]
            record["properties"].setdefault(root.id_field, {"type": ["string", "null"]})
            record["properties"][plan.replication_key] = dict(DATE_TIME)
        props: Schema = {"TenantID": {"type": "string"}}
        props.update(record["properties"])
        for name in HELPER_STRINGS:
            if name in props:
                props.setdefault(f"{name}String", {"type": ["string", "null"]})
        for name in KNOWN_EXTRAS.get(
            self.ref_name(items_ref.get("$ref", "#/components/schemas/")), ()
        ):
            props.setdefault(name, {"type": ["number", "null"]})
        if plan.content:  # the file's content, when the tap downloads it
            props.update(SHA256={"type": ["string", "null"]}, Path={"type": ["string", "null"]})
        return {"type": "object", "properties": props}


def _string() -> Schema:
    return {"type": ["string", "null"]}


def report_schema() -> Schema:
    """One flattened report row: tenant, report, month, position, section, cells."""
    cell = {
        "type": ["object", "null"],
        "properties": {
            "Value": _string(),
            "Attributes": {
                "type": ["array", "null"],
                "items": {
                    "type": ["object", "null"],
                    "properties": {"Id": _string(), "Value": _string()},
                },
            },
        },
    }
    return {
        "type": "object",
        "properties": {
            "TenantID": {"type": "string"},
            "RowKey": {"type": "string"},
            "Report": {"type": "string"},
            "PeriodStart": {"type": "string", "format": "date-time"},
            "PeriodEnd": {"type": ["string", "null"], "format": "date-time"},
            "RowNumber": {"type": "integer"},
            "ReportID": _string(),
            "ReportName": _string(),
            "ReportTitles": {"type": ["array", "null"], "items": _string()},
            "ReportDate": _string(),
            "UpdatedDateUTC": dict(DATE_TIME),
            "Section": _string(),
            "RowType": _string(),
            "RowTitle": _string(),
            "AccountID": _string(),
            "Cells": {"type": ["array", "null"], "items": cell},
            "Values": {"type": ["object", "null"], "additionalProperties": _string()},
        },
    }


def attachment_schema(converter: Converter) -> Schema:
    """One attachment (the spec's ``Attachment``) and the document it belongs to, its content's
    SHA-256 and, when downloaded, where it was saved."""
    attachment = converter.convert({"$ref": "#/components/schemas/Attachment"}, 0, ())
    return {
        "type": "object",
        "properties": {
            "TenantID": {"type": "string"},
            "AttachmentID": _string(),
            "DocumentType": _string(),
            "DocumentID": _string(),
            "DocumentUpdatedDateUTC": dict(DATE_TIME),
            **{
                name: prop
                for name, prop in attachment["properties"].items()
                if name != "AttachmentID"
            },
            "SHA256": _string(),
            "Path": _string(),
        },
    }


def write(path: Path, schema: Schema) -> None:
    """Write one schema, indented but without descriptions or examples."""
    path.write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Regenerate every schema file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "spec",
        nargs="?",
        type=Path,
        default=DEFAULT_SPEC,
        help="the Accounting spec as JSON (default: openapi/xero_accounting.json)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "schemas", help="output folder")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        parser.error(f"spec not found: {args.spec}")
    converters: dict[str, Converter] = {}
    for api in {r.api for r in RESOURCES}:
        path = args.spec if api is ACCOUNTING else args.spec.parent / api.spec_file
        if not path.is_file():
            parser.error(f"spec not found: {path} (the {api.title} API's, beside {args.spec})")
        spec = json.loads(path.read_text(encoding="utf-8"))
        converters[api.name] = Converter(spec, iso_dates=api is not ACCOUNTING)
    args.out.mkdir(parents=True, exist_ok=True)
    for resource in RESOURCES:
        schema = converters[resource.api.name].item_schema(resource)
        write(args.out / f"{resource.stream}.json", schema)
    for stream in REPORTS:
        write(args.out / f"{stream}.json", report_schema())
    write(args.out / "attachments.json", attachment_schema(converters[ACCOUNTING.name]))
    print(f"wrote {len(RESOURCES) + len(REPORTS) + 1} schemas to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The committed specs in ``openapi/``: what ``scripts/vendor_openapi.py`` keeps, and their record.

Whether they still match Xero's YAML is ``make spec-check`` (it needs the official specs).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from openapi_spec_validator import validate

from tests._openapi import OPENAPI_DIR, spec_document

REPO = Path(__file__).resolve().parents[2]


def _vendor() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_openapi", REPO / "scripts/vendor_openapi.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prose_goes_and_names_spelt_like_prose_stay() -> None:
    schema = {
        "description": "An invoice",
        "x-example": {"Total": 1},
        "x-is-msdate": True,
        "properties": {
            "description": {"type": "string", "description": "text", "example": "a"},
            "summary": {"$ref": "#/components/schemas/Summary"},
        },
        "required": ["description"],
    }
    assert _vendor().without_prose({"components": {"schemas": {"Invoice": schema}}}) == {
        "components": {
            "schemas": {
                "Invoice": {
                    "x-is-msdate": True,
                    "properties": {
                        "description": {"type": "string"},
                        "summary": {"$ref": "#/components/schemas/Summary"},
                    },
                    "required": ["description"],
                }
            }
        }
    }


def test_every_committed_spec_is_recorded_with_its_version_and_licence() -> None:
    source = json.loads((OPENAPI_DIR / "SOURCE.json").read_text("utf-8"))
    assert source["repository"] == "https://github.com/XeroAPI/Xero-OpenAPI"
    assert len(source["commit"]) == 40
    assert "MIT" in source["licence"]
    assert "MIT License" in (OPENAPI_DIR / "LICENSE").read_text("utf-8")
    committed = {p.name for p in OPENAPI_DIR.glob("*.json")} - {"SOURCE.json"}
    assert set(source["files"]) == committed
    assert len(committed) == len(_vendor().SPECS)
    for name, recorded in source["files"].items():
        info = spec_document(name.removesuffix(".json"))["info"]
        assert (info["title"], info["version"]) == (recorded["title"], recorded["version"])


def test_the_specs_stay_valid_openapi() -> None:
    # xero_accounting.yaml itself is not (string defaults on booleans): only the others are checked.
    for name in _vendor().SPECS:
        if name != "xero_accounting.yaml":
            validate(spec_document(Path(name).stem))

"""target-xero on the Fixed Assets API: asset types and assets copied from one Demo Company into
another, populated one of the same region (tap-xero -> target-xero over the sandbox, real
processes).

Every Demo Company numbers its assets ``FA-0001``…, so the two copies here are the two cases a
user meets:

* numbers kept apart (a stream map prefixes them): every draft and registered asset reads back
  equal, its type found by name; a disposed one is rejected with the reason (the API cannot
  dispose); a replay changes nothing; the target's own assets are untouched;
* numbers as they are: an asset is matched by its number, so a draft holding it is updated (as
  audited) and a registered one, which the API cannot change, is rejected with the reason; no
  other asset changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import (
    SANDBOX_FLAGS,
    Org,
    OrgPool,
    copy_into,
    singer_file,
    tap_records,
)
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

STREAMS = ["accounts", "asset_types", "assets"]
ASSETS = "/assets.xro/1.0"
WRITTEN = (
    "assetName",
    "purchaseDate",
    "purchasePrice",
    "assetStatus",
    "warrantyExpiryDate",
    "serialNumber",
)


@dataclass
class World:
    pool: OrgPool
    records: dict[str, list[dict[str, Any]]]
    singer: Path
    targets: list[str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("assets")
    with Sandbox(tenants=3, scale=100, **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        pool.token = str(sb.authorize(f"{ALL_SCOPES} assets")["access_token"])
        first, *others = sb.tenant_ids()
        records = tap_records(pool, tmp, "source", first, STREAMS)
        yield World(pool, records, tmp / "source.singer", others)


def _api(org: Org, path: str, **params: str) -> Any:
    return org.api(ASSETS + path, **params)


def _assets(org: Org) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for status in ("DRAFT", "REGISTERED", "DISPOSED"):
        for asset in _api(org, "/Assets", status=status, pageSize="100")["items"]:
            found[asset["assetId"]] = asset
    return found


def _types(org: Org) -> dict[str, str]:
    return {t["assetTypeId"]: t["assetTypeName"] for t in _api(org, "/AssetTypes")}


def _written(asset: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    content = {k: asset.get(k) for k in WRITTEN}
    content["type"] = types.get(asset.get("assetTypeId") or "")
    setting = asset.get("bookDepreciationSetting") or {}
    content["depreciation"] = {
        k: v
        for k, v in setting.items()
        if k not in ("depreciableObjectId", "depreciableObjectType")
    }
    return content


def test_copy_with_numbers_kept_apart_reads_back_equal_and_replays_to_nothing(
    world: World, tmp_path: Path
) -> None:
    source = Org(world.pool.sandbox, world.pool.sandbox.tenant_ids()[0], world.pool.token)
    target = Org(world.pool.sandbox, world.targets[0], world.pool.token)
    statuses = Counter(a["assetStatus"] for a in world.records["assets"])
    assert all(statuses[s] for s in ("Draft", "Registered", "Disposed")), statuses
    before = _assets(target)
    apart = {"stream_maps": {"assets": {"assetNumber": "'COPY-' + assetNumber"}}}

    run = copy_into(target, tmp_path, world.singer, **apart)
    # The API cannot dispose of an asset: each disposed one is rejected, saying so.
    assert len(run.rejects) == statuses["Disposed"]
    assert all("Disposed" in " ".join(r["reasons"]) for r in run.rejects), run.rejects
    after = _assets(target)
    created = {
        a["xero_id"] for a in run.audit if a["stream"] == "assets" and a["action"] == "created"
    }
    assert after.keys() - before.keys() == created
    assert all(after[k] == doc for k, doc in before.items())  # the target's own: untouched

    source_types, target_types = _types(source), _types(target)
    copied = {a["assetNumber"]: _written(a, target_types) for a in after.values()}
    for asset in _assets(source).values():
        if asset["assetStatus"] == "Disposed":
            continue
        assert copied["COPY-" + asset["assetNumber"]] == _written(asset, source_types)

    again = copy_into(target, tmp_path, world.singer, **apart)
    assert {a["action"] for a in again.audit} == {"unchanged"}
    assert len(again.rejects) == statuses["Disposed"]
    assert _assets(target) == after


def test_copy_with_the_same_numbers_changes_only_the_drafts_it_matched(
    world: World, tmp_path: Path
) -> None:
    target = Org(world.pool.sandbox, world.targets[1], world.pool.token)
    before = _assets(target)
    run = copy_into(target, tmp_path, world.singer)
    after = _assets(target)
    updated = {
        a["xero_id"] for a in run.audit if a["stream"] == "assets" and a["action"] == "updated"
    }
    created = {
        a["xero_id"] for a in run.audit if a["stream"] == "assets" and a["action"] == "created"
    }
    assert after.keys() - before.keys() == created
    changed = {k for k in before if after[k] != before[k]}
    assert changed == updated
    assert all(before[k]["assetStatus"] == "Draft" for k in updated)
    numbers = {a["assetNumber"]: a for a in before.values()}
    for reject in run.rejects:
        reason = " ".join(reject["reasons"])
        held = numbers.get(reject["record"]["assetNumber"])
        if held is not None and held["assetStatus"] != "Draft":
            assert "Only draft assets can be changed" in reason
        else:
            assert reject["record"]["assetStatus"] == "Disposed", reject
            assert "Disposed" in reason


def test_asset_type_by_name_and_rejects(world: World, tmp_path: Path) -> None:
    target = Org(world.pool.sandbox, world.targets[1], world.pool.token)
    schema = {"type": "object", "properties": {}}
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "assets", "schema": schema, "key_properties": []},
        {
            "type": "RECORD",
            "stream": "assets",
            "record": {
                "assetName": "Standing desk",
                "assetNumber": "NEW-0001",
                "assetTypeName": "office equipment",
                "purchaseDate": "2026-03-01",
                "purchasePrice": 450.0,
                "assetStatus": "Registered",
            },
        },
        {
            "type": "RECORD",
            "stream": "assets",
            "record": {"assetName": "Boat", "assetNumber": "NEW-0002", "assetTypeName": "Boats"},
        },
        {
            "type": "RECORD",
            "stream": "assets",
            "record": {"assetName": "Van", "assetNumber": "NEW-0003", "assetStatus": "Registered"},
        },
    ]
    run = copy_into(target, tmp_path, singer_file(tmp_path, "assets.singer", messages))
    reasons = {r["record"]["assetNumber"]: " ".join(r["reasons"]) for r in run.rejects}
    assert "'Boats' matches no asset type" in reasons["NEW-0002"]
    assert "needs an asset type" in reasons["NEW-0003"]
    assert set(reasons) == {"NEW-0002", "NEW-0003"}
    desk = next(a for a in _assets(target).values() if a["assetNumber"] == "NEW-0001")
    assert _types(target)[desk["assetTypeId"]] == "Office Equipment"
    assert desk["assetStatus"] == "Registered"

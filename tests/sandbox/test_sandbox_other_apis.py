"""The sandbox's Projects and Fixed Assets APIs over real HTTP: paging, filters, single records,
scopes, regions and subscriptions, and their seeded demo data."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from xero_sandbox.launcher import ALL_SCOPES, Sandbox

PROJECTS = "/projects.xro/2.0"
ASSETS = "/assets.xro/1.0"
FILES = "/files.xro/1.0"
READ_SCOPES = f"{ALL_SCOPES} projects.read assets.read files.read"
SCALE = 60


class World:
    """A 4-region sandbox (and one empty tenant) with tokens per scope list."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.tenants = sb.tenant_ids()
        self._tokens: dict[str, str] = {}

    def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        tenant: int = 0,
        scope: str = READ_SCOPES,
    ) -> httpx.Response:
        if scope not in self._tokens:
            self._tokens[scope] = self.sb.authorize(scope)["access_token"]
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._tokens[scope]}",
            "xero-tenant-id": self.tenants[tenant],
        }
        return httpx.get(self.sb.url + path, params=params or {}, headers=headers, timeout=30)

    def json(self, path: str, params: dict[str, str] | None = None, tenant: int = 0) -> Any:
        answer = self.get(path, params, tenant=tenant)
        assert answer.status_code == 200, answer.text
        return json.loads(answer.text, parse_float=Decimal)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with Sandbox(
        tenants=4,
        empty_tenants=1,
        scale=SCALE,
        regions="NZ,AU,UK,US",
        minute_limit=100_000,
        day_limit=1_000_000,
        app_minute_limit=1_000_000,
    ) as sb:
        yield World(sb)


def _items(world: World, path: str, tenant: int = 0, **params: str) -> list[dict[str, Any]]:
    body = world.json(path, {"pageSize": "500", **params}, tenant)
    items: list[dict[str, Any]] = body["items"]
    return items


# ------------------------------------------------------------------ Projects


def test_projects_page_with_a_pagination_object(world: World) -> None:
    everything = world.json(f"{PROJECTS}/Projects")
    count = SCALE // 20 + 3
    assert everything["pagination"] == {
        "page": 1,
        "pageSize": 50,
        "pageCount": 1,
        "itemCount": count,
    }
    pages = [world.json(f"{PROJECTS}/Projects", {"page": str(p), "pageSize": "4"}) for p in (1, 2)]
    assert [p["pagination"]["pageCount"] for p in pages] == [2, 2]
    assert [x["projectId"] for p in pages for x in p["items"]] == [
        x["projectId"] for x in everything["items"]
    ]
    beyond = world.json(f"{PROJECTS}/Projects", {"page": "3", "pageSize": "4"})
    assert beyond["items"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pageSize": "501"}, "pageSize must be a number between 1 and 500"),
        ({"pageSize": "0"}, "pageSize must be a number between 1 and 500"),
        ({"page": "0"}, "page must be a number greater than 0"),
        ({"page": "x"}, "page must be a number greater than 0"),
    ],
)
def test_projects_refuse_a_page_outside_the_spec(
    world: World, params: dict[str, str], message: str
) -> None:
    answer = world.get(f"{PROJECTS}/Projects", params)
    assert answer.status_code == 400
    assert answer.json() == {"message": message, "modelState": {}}


def test_project_filters(world: World) -> None:
    projects = _items(world, f"{PROJECTS}/Projects")
    first, second = projects[0], projects[1]
    ids = f"{first['projectId']},{second['projectId'].upper()}"
    assert [p["projectId"] for p in _items(world, f"{PROJECTS}/Projects", projectIds=ids)] == [
        first["projectId"],
        second["projectId"],
    ]
    by_contact = _items(world, f"{PROJECTS}/Projects", contactID=first["contactId"])
    assert by_contact == [p for p in projects if p["contactId"] == first["contactId"]]
    for state in ("INPROGRESS", "CLOSED"):
        found = _items(world, f"{PROJECTS}/Projects", states=state)
        assert found == [p for p in projects if p["status"] == state]
    assert {p["status"] for p in projects} == {"INPROGRESS", "CLOSED"}


def test_tasks_and_time_are_read_per_project_and_add_up(world: World) -> None:
    for project in _items(world, f"{PROJECTS}/Projects"):
        base = f"{PROJECTS}/Projects/{project['projectId']}"
        tasks = _items(world, f"{base}/Tasks")
        entries = _items(world, f"{base}/Time")
        assert tasks
        assert entries
        assert {t["projectId"] for t in tasks} == {project["projectId"]}
        assert {e["projectId"] for e in entries} == {project["projectId"]}
        assert {e["taskId"] for e in entries} <= {t["taskId"] for t in tasks}
        assert project["minutesLogged"] == sum(e["duration"] for e in entries)
        for task in tasks:
            minutes = sum(e["duration"] for e in entries if e["taskId"] == task["taskId"])
            assert task["totalMinutes"] == minutes
        total = sum(t["totalAmount"]["value"] for t in tasks)
        assert project["totalTaskAmount"]["value"] == total
        assert world.json(base) == project
        assert world.json(f"{base}/Tasks/{tasks[0]['taskId']}") == tasks[0]
        assert world.json(f"{base}/Time/{entries[0]['timeEntryId']}") == entries[0]


def test_task_and_time_filters(world: World) -> None:
    project = _items(world, f"{PROJECTS}/Projects")[0]
    base = f"{PROJECTS}/Projects/{project['projectId']}"
    tasks = _items(world, f"{base}/Tasks")
    entries = _items(world, f"{base}/Time")
    task = tasks[0]
    assert _items(world, f"{base}/Tasks", taskIds=task["taskId"]) == [task]
    for charge in ("TIME", "FIXED", "NON_CHARGEABLE"):
        found = _items(world, f"{base}/Tasks", chargeType=charge)
        assert found == [t for t in tasks if t["chargeType"] == charge]
    entry = entries[0]
    assert _items(world, f"{base}/Time", userId=entry["userId"]) == [
        e for e in entries if e["userId"] == entry["userId"]
    ]
    assert _items(world, f"{base}/Time", taskId=entry["taskId"]) == [
        e for e in entries if e["taskId"] == entry["taskId"]
    ]
    charged = {t["taskId"] for t in tasks if t["chargeType"] != "NON_CHARGEABLE"}
    assert _items(world, f"{base}/Time", isChargeable="true") == [
        e for e in entries if e["taskId"] in charged
    ]
    # dateAfterUtc / dateBeforeUtc bound dateUtc, both inclusive.
    moment = entry["dateUtc"]
    after = _items(world, f"{base}/Time", dateAfterUtc=moment)
    before = _items(world, f"{base}/Time", dateBeforeUtc=moment)
    when = datetime.fromisoformat(moment)
    assert after == [e for e in entries if datetime.fromisoformat(e["dateUtc"]) >= when]
    assert before == [e for e in entries if datetime.fromisoformat(e["dateUtc"]) <= when]
    assert entry in after
    assert entry in before
    assert _items(world, f"{base}/Time", contactId=project["contactId"]) == entries
    other = "00000000-0000-4000-8000-000000000000"
    assert _items(world, f"{base}/Time", contactId=other) == []
    bad = world.get(f"{base}/Time", {"dateAfterUtc": "yesterday"})
    assert bad.status_code == 400
    assert "dateAfterUtc" in bad.json()["message"]


def test_project_users_are_the_organisations_users(world: World) -> None:
    users = _items(world, f"{PROJECTS}/ProjectsUsers")
    accounting = world.json("/api.xro/2.0/Users")["Users"]
    assert sorted(u["userId"] for u in users) == sorted(u["UserID"] for u in accounting)


def test_unknown_ids_are_404(world: World) -> None:
    nobody = "00000000-0000-4000-8000-000000000000"
    project = _items(world, f"{PROJECTS}/Projects")[0]["projectId"]
    other = _items(world, f"{PROJECTS}/Projects")[1]["projectId"]
    task = _items(world, f"{PROJECTS}/Projects/{other}/Tasks")[0]["taskId"]
    for path in (
        f"{PROJECTS}/Projects/{nobody}",
        f"{PROJECTS}/Projects/{nobody}/Tasks",
        f"{PROJECTS}/Projects/{nobody}/Time",
        f"{PROJECTS}/Projects/{project}/Tasks/{task}",  # another project's task
        f"{ASSETS}/Assets/{nobody}",
    ):
        assert world.get(path).status_code == 404, path


# ------------------------------------------------------------------ Assets


def test_assets_need_a_status_and_page_by_ten(world: World) -> None:
    answer = world.get(f"{ASSETS}/Assets")
    assert answer.status_code == 400
    assert answer.json()["fieldValidationErrors"][0]["fieldName"] == "status"
    seen: list[str] = []
    for status in ("DRAFT", "REGISTERED", "DISPOSED"):
        body = world.json(f"{ASSETS}/Assets", {"status": status.lower()})
        assert body["pagination"]["pageSize"] == 10
        count = body["pagination"]["itemCount"]
        assert len(body["items"]) == min(10, count)
        found = _items(world, f"{ASSETS}/Assets", status=status)
        assert len(found) == count
        assert {a["assetStatus"].upper() for a in found} <= {status}
        seen += [a["assetId"] for a in found]
    assert len(seen) == len(set(seen)) == SCALE // 10 + 4


def test_asset_order_and_filter(world: World) -> None:
    registered = _items(world, f"{ASSETS}/Assets", status="REGISTERED")
    ordered = _items(
        world,
        f"{ASSETS}/Assets",
        status="REGISTERED",
        orderBy="PurchasePrice",
        sortDirection="desc",
    )
    prices = [a["purchasePrice"] for a in ordered]
    assert prices == sorted(prices, reverse=True)
    assert sorted(a["assetId"] for a in ordered) == sorted(a["assetId"] for a in registered)
    refused = world.get(f"{ASSETS}/Assets", {"status": "REGISTERED", "orderBy": "DisposalDate"})
    assert refused.status_code == 400
    name = registered[0]["assetName"]
    found = _items(world, f"{ASSETS}/Assets", status="REGISTERED", filterBy=name.lower())
    assert registered[0] in found
    assert all(name.lower() in a["assetName"].lower() for a in found)
    by_type = _items(world, f"{ASSETS}/Assets", status="REGISTERED", filterBy="computer")
    computers = {
        t["assetTypeId"]
        for t in world.json(f"{ASSETS}/AssetTypes")
        if t["assetTypeName"] == "Computer Equipment"
    }
    assert by_type == [a for a in registered if a["assetTypeId"] in computers]


def test_asset_books_are_consistent(world: World) -> None:
    types = {t["assetTypeId"]: t for t in world.json(f"{ASSETS}/AssetTypes")}
    settings = world.json(f"{ASSETS}/Settings")
    assert settings["assetNumberPrefix"] == "FA-"
    for status in ("DRAFT", "REGISTERED", "DISPOSED"):
        for asset in _items(world, f"{ASSETS}/Assets", status=status):
            assert asset["assetTypeId"] in types
            detail = asset["bookDepreciationDetail"]
            accumulated = detail["currentAccumDepreciationAmount"]
            if status == "DISPOSED":
                assert asset["accountingBookValue"] == 0
                assert asset["disposalDate"] >= asset["purchaseDate"]
            else:
                assert asset["accountingBookValue"] == asset["purchasePrice"] - accumulated
            if status == "DRAFT":
                assert accumulated == 0
            assert world.json(f"{ASSETS}/Assets/{asset['assetId']}") == asset


# ------------------------------------------------------------------ who may read


def test_each_api_needs_its_own_scope(world: World) -> None:
    for path in (f"{PROJECTS}/Projects", f"{ASSETS}/AssetTypes"):
        answer = world.get(path, scope=ALL_SCOPES)
        assert answer.status_code == 401, path
        assert answer.json()["Detail"] == "AuthorizationUnsuccessful"
    assert world.get(f"{PROJECTS}/Projects", scope="projects").status_code == 200
    assert world.get(f"{ASSETS}/AssetTypes", scope="assets").status_code == 200
    assert world.get(f"{ASSETS}/AssetTypes", scope="projects.read").status_code == 401


def test_an_organisation_without_the_api_answers_403(world: World) -> None:
    empty = len(world.tenants) - 1
    for path in (f"{PROJECTS}/Projects", f"{ASSETS}/Settings", f"{ASSETS}/AssetTypes"):
        answer = world.get(path, tenant=empty)
        assert answer.status_code == 403, path
        assert answer.json()["Detail"] == "AuthenticationUnsuccessful"


def test_regions_set_each_organisation(world: World) -> None:
    expected = [("NZ", "NZ", "NZD"), ("AU", "AU", "AUD"), ("UK", "GB", "GBP"), ("US", "US", "USD")]
    for index, (version, country, currency) in enumerate(expected):
        org = world.json("/api.xro/2.0/Organisation", tenant=index)["Organisations"][0]
        assert (org["Version"], org["CountryCode"], org["BaseCurrency"]) == (
            version,
            country,
            currency,
        )
        assert org["Name"].startswith(f"Demo Company ({version})")
        projects = _items(world, f"{PROJECTS}/Projects", tenant=index)
        assert {p["currencyCode"] for p in projects} == {currency}


def _seed(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xero_sandbox", "seed", "--db", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_regional_seed_is_deterministic_and_regions_are_checked(tmp_path: Path) -> None:
    flags = ("--tenants", "2", "--scale", "20", "--regions", "AU,UK")
    for name in ("a.db", "b.db"):
        assert _seed(tmp_path / name, *flags).returncode == 0
    assert (tmp_path / "a.db").read_bytes() == (tmp_path / "b.db").read_bytes()
    bad = _seed(tmp_path / "c.db", "--regions", "NZ,XX")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "xero-sandbox: error: --regions: unknown region XX (choose from NZ, AU, UK, US)"
    )


# ------------------------------------------------------------------ Files


def test_files_page_sort_and_refuse_what_the_spec_does_not_allow(world: World) -> None:
    everything = world.json(f"{FILES}/Files")
    assert everything["PerPage"] == 100
    assert everything["TotalCount"] == len(everything["Items"]) == SCALE // 10 + 6  # and the scan
    pages = [world.json(f"{FILES}/Files", {"page": str(p), "pagesize": "4"}) for p in (1, 2, 3)]
    assert [f["Id"] for p in pages for f in p["Items"]] == [f["Id"] for f in everything["Items"]]
    by_size = world.json(f"{FILES}/Files", {"sort": "Size", "direction": "DESC"})["Items"]
    assert [f["Size"] for f in by_size] == sorted((f["Size"] for f in by_size), reverse=True)
    for params in ({"pagesize": "101"}, {"page": "0"}, {"sort": "Colour"}):
        refused = world.get(f"{FILES}/Files", params)
        assert refused.status_code == 400, params
        [problem] = refused.json()
        assert problem["type"] == "Validation", params
        assert problem["detail"], params
    assert "Colour" not in refused.json()[0]["detail"]
    assert "CreatedDateUTC" in refused.json()[0]["detail"]


def test_the_large_file_is_streamed_in_chunks(world: World) -> None:
    """The inbox's 3 MB scan: sent in several chunks with its Content-Length, the same bytes
    (same SHA-256) every time."""
    files = world.json(f"{FILES}/Files")["Items"]
    [scan] = [f for f in files if f["Size"] >= 3 * 1024 * 1024]
    assert scan["FolderId"] == world.json(f"{FILES}/Inbox")["Id"]
    headers = {
        "Accept": "application/json",  # the gate asks it of every call
        "Authorization": f"Bearer {world.sb.authorize(READ_SCOPES)['access_token']}",
        "xero-tenant-id": world.tenants[0],
    }
    digests = []
    for _ in range(2):
        digest, chunks, total = hashlib.sha256(), 0, 0
        url = f"{world.sb.url}{FILES}/Files/{scan['Id']}/Content"
        with httpx.stream("GET", url, headers=headers, timeout=30) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "application/octet-stream"
            assert int(answer.headers["content-length"]) == scan["Size"]
            for chunk in answer.iter_raw():
                digest.update(chunk)
                chunks += 1
                total += len(chunk)
        assert total == scan["Size"]
        assert chunks > 1
        digests.append(digest.hexdigest())
    assert digests[0] == digests[1]


def test_folders_sort_by_bytes_held_and_by_creation(world: World) -> None:
    files = world.json(f"{FILES}/Files")["Items"]
    made = world.json(f"{FILES}/Folders")
    held = {f["Id"]: sum(x["Size"] for x in files if x["FolderId"] == f["Id"]) for f in made}
    by_size = world.json(f"{FILES}/Folders", {"sort": "Size"})
    assert [held[f["Id"]] for f in by_size] == sorted(held.values())
    assert len(set(held.values())) > 1
    largest = world.json(f"{FILES}/Folders", {"sort": "Size", "direction": "DESC"})
    assert [held[f["Id"]] for f in largest] == sorted(held.values(), reverse=True)
    assert world.json(f"{FILES}/Folders", {"sort": "CreatedDateUTC"}) == made
    assert world.json(f"{FILES}/Folders", {"sort": "CreatedDateUTC DESC"}) == made[::-1]
    by_name = world.json(f"{FILES}/Folders", {"sort": "name", "direction": "desc"})
    assert [f["Name"] for f in by_name] == sorted((f["Name"] for f in made), reverse=True)
    for sort in ("Colour", "Size SIDEWAYS", "Size ASC extra"):
        assert world.get(f"{FILES}/Folders", {"sort": sort}).status_code == 400, sort


def test_folders_inbox_content_and_associations(world: World) -> None:
    files = world.json(f"{FILES}/Files")["Items"]
    folders = world.json(f"{FILES}/Folders")
    inbox = world.json(f"{FILES}/Inbox")
    assert inbox["IsInbox"] is True
    assert inbox in folders
    assert sum(f["FileCount"] for f in folders) == len(files)
    links = [link for f in files for link in world.json(f"{FILES}/Files/{f['Id']}/Associations")]
    assert links
    link = links[0]
    of_object = world.json(f"{FILES}/Associations/{link['ObjectId']}")
    assert link in of_object
    assert {a["ObjectId"] for a in of_object} == {link["ObjectId"]}
    count = world.json(f"{FILES}/Associations/Count", {"ObjectIds": link["ObjectId"]})
    assert count == {link["ObjectId"]: len(of_object)}
    first = files[0]
    content = world.get(f"{FILES}/Files/{first['Id']}/Content")
    assert content.status_code == 200
    assert len(content.content) == first["Size"]
    assert content.content == world.get(f"{FILES}/Files/{first['Id']}/Content").content
    assert world.json(f"{FILES}/Files/{first['Id']}") == first
    nobody = "00000000-0000-4000-8000-000000000000"
    assert world.get(f"{FILES}/Files/{nobody}").status_code == 404
    assert world.get(f"{FILES}/Files", scope=ALL_SCOPES).status_code == 401
    assert world.get(f"{FILES}/Files", tenant=len(world.tenants) - 1).status_code == 403

"""A time tracker's CSV export into Xero Projects: `meltano run tap-project-time target-xero`
(tap-spreadsheets and a stream map naming the project, task and user as Xero knows them) logs
every row as a time entry of the right project, task and user; running it again changes nothing.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.meltano_support import REPO, SANDBOX_FLAGS, RecipeRun, sandbox_call
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

pytestmark = pytest.mark.meltano

SCOPES = f"{ALL_SCOPES} projects"
PROJECTS = "/projects.xro/2.0"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**{**SANDBOX_FLAGS, "tenants": 1, "scale": 4}) as running:
        running._tokens = running.authorize(SCOPES)
        yield running


def _call(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    params = {"pageSize": "500"} if method == "GET" else {}
    return sandbox_call(sandbox, PROJECTS, method, path, body, **params)


def test_time_entry_csv_lands_in_its_project(sandbox: Sandbox, tmp_path: Path) -> None:
    # The project the time was tracked against, as it already is in Xero.
    project = _call(sandbox, "POST", "/Projects", {"name": "Harbour Bridge repaint"})
    base = f"/Projects/{project['projectId']}"
    tasks = {}
    for name in ("Design", "Painting"):
        rate = {"currency": project["currencyCode"], "value": 95}
        task = _call(
            sandbox, "POST", f"{base}/Tasks", {"name": name, "rate": rate, "chargeType": "TIME"}
        )
        tasks[task["taskId"]] = name
    users = {u["userId"]: u["email"] for u in _call(sandbox, "GET", "/ProjectsUsers")["items"]}

    recipe = RecipeRun(tmp_path / "project", sandbox, SCOPES, "tap-project-time")
    audit = recipe.load()
    assert Counter((e["stream"], e["action"]) for e in audit) == {("project_time", "created"): 5}

    with (REPO / "examples" / "project-time" / "time-entries.csv").open() as rows:
        expected = Counter(
            (
                row["task"],
                row["user_email"],
                f"{row['date']}T{row['start']}:00Z",
                round(float(row["hours"]) * 60),
                row["description"],
            )
            for row in csv.DictReader(rows)
        )
    logged = Counter(
        (tasks[e["taskId"]], users[e["userId"]], e["dateUtc"], e["duration"], e["description"])
        for e in _call(sandbox, "GET", f"{base}/Time")["items"]
    )
    assert logged == expected
    assert _call(sandbox, "GET", base)["minutesLogged"] == sum(
        minutes * count for (_, _, _, minutes, _), count in expected.items()
    )

    # The same export again (read whole, despite the tap's bookmark): every entry is recognised,
    # nothing is written.
    again = recipe.load("--full-refresh")
    assert Counter(e["action"] for e in again) == {"unchanged": 5}
    assert len(_call(sandbox, "GET", f"{base}/Time")["items"]) == 5

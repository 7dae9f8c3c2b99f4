"""meltano.yml declares exactly what tap-xero and target-xero accept; shard plans are sound."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.meltano_support import new_project

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "orchestrate"))

from shards import (  # noqa: E402
    ShardError,
    load_shards,
    max_parallel_shards,
    plan_shards,
    shard_env,
)

pytestmark = pytest.mark.meltano

MELTANO_YML = yaml.safe_load((REPO / "meltano.yml").read_text(encoding="utf-8"))
# No "decimal": Meltano 4.4 turns a decimal setting given as an environment variable into a
# Decimal its own JSON writer refuses, and stops (numbers are whole seconds and hours).
KINDS = {"string", "integer", "boolean", "date_iso8601", "array", "object", "options"}


def _plugin(kind: str, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in MELTANO_YML["plugins"][kind] if p["name"] == name]
    assert found, f"{name} is not declared under plugins.{kind}"
    return found[0]


def _about(executable: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(Path(sys.executable).with_name(executable)), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    about: dict[str, Any] = json.loads(done.stdout)
    return about


@pytest.mark.parametrize(("kind", "name"), [("extractors", "tap-xero"), ("loaders", "target-xero")])
def test_every_setting_is_declared_once_with_kind_label_and_description(
    kind: str, name: str
) -> None:
    plugin = _plugin(kind, name)
    about = _about(name)
    properties: dict[str, Any] = about["settings"]["properties"]
    declared = {s["name"]: s for s in plugin["settings"]}

    assert len(declared) == len(plugin["settings"]), f"{name}: a setting is declared twice"
    assert set(declared) == set(properties), (
        f"{name}: missing from meltano.yml {sorted(set(properties) - set(declared))}, "
        f"unknown to the plugin {sorted(set(declared) - set(properties))}"
    )
    for setting_name, setting in declared.items():
        assert setting.get("kind") in KINDS, f"{name}.{setting_name}: kind {setting.get('kind')}"
        assert setting.get("label"), f"{name}.{setting_name} has no label"
        assert setting.get("description"), f"{name}.{setting_name} has no description"
        secret = bool(
            properties[setting_name].get("secret") or properties[setting_name].get("writeOnly")
        )
        assert bool(setting.get("sensitive")) == secret, (
            f"{name}.{setting_name}: sensitive in meltano.yml must match the plugin's secret flag"
        )
        if setting["kind"] == "options":
            allowed = {o["value"] for o in setting["options"]}
            enum = properties[setting_name].get("enum")
            if enum:
                assert allowed == set(enum), f"{name}.{setting_name}: options differ from enum"


def test_numeric_settings_can_come_from_the_environment(tmp_path: Path) -> None:
    numeric = {
        setting["name"]: 7
        for setting in _plugin("extractors", "tap-xero")["settings"]
        if setting["kind"] == "integer"
    }
    env = {f"TAP_XERO_{name.upper()}": str(value) for name, value in numeric.items()}
    project = new_project(
        tmp_path / "project", sandbox_url="http://127.0.0.1:9", refresh_token=None
    )
    dumped = project.run("invoke", "--dump=config", "tap-xero", env=env).output
    config = json.JSONDecoder().raw_decode(dumped[dumped.index("{") :])[0]
    assert {name: config[name] for name in numeric} == numeric


@pytest.mark.parametrize("name", ["tap-xero", "target-xero"])
def test_about_shows_the_package_version(name: str) -> None:
    # singer-sdk looks the version up by distribution name: ours is singer-xero, not the
    # plugin's name (which would give "[could not be detected]").
    version = metadata.version("singer-xero")
    assert _about(name)["version"] == version
    done = subprocess.run(
        [str(Path(sys.executable).with_name(name)), "--about"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert f"Version: {version}" in done.stdout


@pytest.mark.parametrize(("kind", "name"), [("extractors", "tap-xero"), ("loaders", "target-xero")])
def test_capabilities_match_what_the_plugin_reports(kind: str, name: str) -> None:
    # Meltano passes --catalog/--state only for declared capabilities, so they must be exact.
    assert set(_plugin(kind, name)["capabilities"]) == set(_about(name)["capabilities"])


def test_default_selection_is_the_taps() -> None:
    catalog = json.loads(
        subprocess.run(
            [str(Path(sys.executable).with_name("tap-xero")), "--discover"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    left_out = {
        entry["tap_stream_id"]
        for entry in catalog["streams"]
        for meta in entry["metadata"]
        if meta["breadcrumb"] == [] and not meta["metadata"]["selected-by-default"]
    }
    assert {"expense_claims", "receipts", "payment_services", "projects", "assets"} <= left_out
    select = _plugin("extractors", "tap-xero")["select"]
    assert select == ["*.*", *(f"!{stream}.*" for stream in sorted(left_out))]


def test_no_secret_value_is_committed_outside_the_sandbox_environment() -> None:
    secrets = {
        s["name"]
        for kind in ("extractors", "loaders")
        for p in MELTANO_YML["plugins"][kind]
        for s in p.get("settings", [])
        if s.get("sensitive")
    }
    for kind in ("extractors", "loaders"):
        for plugin in MELTANO_YML["plugins"][kind]:
            leaked = secrets & set(plugin.get("config", {}))
            assert not leaked, f"{plugin['name']} config holds secrets {leaked}"
    for environment in MELTANO_YML["environments"]:
        if environment["name"] == "sandbox":
            continue  # the sandbox's documented client secret is not a secret
        for kind, plugins in environment.get("config", {}).get("plugins", {}).items():
            for plugin in plugins:
                leaked = secrets & set(plugin.get("config", {}))
                assert not leaked, f"{environment['name']}/{kind}/{plugin['name']}: {leaked}"


def test_sandbox_is_the_default_environment_and_prod_uses_real_xero() -> None:
    assert MELTANO_YML["default_environment"] == "sandbox"
    assert MELTANO_YML["send_anonymous_usage_stats"] is False
    environments = {e["name"]: e for e in MELTANO_YML["environments"]}
    assert set(environments) >= {"sandbox", "prod"}
    sandbox_tap = environments["sandbox"]["config"]["plugins"]["extractors"][0]["config"]
    assert sandbox_tap["api_url"].startswith("http://127.0.0.1")
    prod_tap = environments["prod"]["config"]["plugins"]["extractors"][0]["config"]
    assert "api_url" not in prod_tap  # falls back to https://api.xero.com
    tap_settings = {s["name"]: s for s in _plugin("extractors", "tap-xero")["settings"]}
    assert tap_settings["api_url"]["value"] == "https://api.xero.com"


def test_shard_plan_covers_every_tenant_once_in_stable_order() -> None:
    tenants = [f"t{n}" for n in range(7)]
    shards = plan_shards(tenants, 3)
    assert shards == {
        "shard_000": ["t0", "t1", "t2"],
        "shard_001": ["t3", "t4", "t5"],
        "shard_002": ["t6"],
    }
    # Growing the list at the end keeps the existing shards (and so their state) unchanged.
    grown = plan_shards([*tenants, "t7", "t8"], 3)
    assert grown["shard_000"] == shards["shard_000"]
    assert grown["shard_001"] == shards["shard_001"]
    with pytest.raises(ShardError, match="listed twice"):
        plan_shards(["a", "a"], 2)


def test_shard_env_sets_tenants_and_state_suffix() -> None:
    env = shard_env("shard_001", ["a", "b"], {"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "x"})
    assert json.loads(env["TAP_XERO_TENANT_IDS"]) == ["a", "b"]
    assert env["MELTANO_RUN_STATE_ID_SUFFIX"] == "shard_001"
    assert env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] == "x"
    with pytest.raises(ShardError, match="letters, digits"):
        shard_env("bad name", ["a"])


def test_parallel_shards_stay_under_the_app_minute_limit() -> None:
    for shard_size in (1, 5, 10, 50, 200):
        parallel = max_parallel_shards(shard_size)
        assert parallel >= 1
        if parallel > 1:
            assert parallel * shard_size * 60 <= 10_000
    assert max_parallel_shards(10) == 13  # 13 x 10 tenants x 60/min = 7,800 <= 8,000


def test_shard_file_errors_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "shards.json"
    path.write_text('{"a": ["t1"], "b": ["t1"]}')
    with pytest.raises(ShardError, match="tenant t1 is in shards a and b"):
        load_shards(path)
    path.write_text("{nope")
    with pytest.raises(ShardError, match="not valid JSON"):
        load_shards(path)
    with pytest.raises(ShardError, match="does not exist"):
        load_shards(tmp_path / "missing.json")
    example = load_shards(REPO / "orchestrate" / "tenant_shards.example.json")
    assert sum(len(t) for t in example.values()) == 3


def test_event_driven_job_and_schedule_name_declared_plugins() -> None:
    jobs = {job["name"]: job for job in MELTANO_YML["jobs"]}
    schedule = {s["name"]: s for s in MELTANO_YML["schedules"]}["xero-events-every-5-minutes"]
    assert schedule["interval"] == "*/5 * * * *"
    for task in jobs[schedule["job"]]["tasks"]:
        extractor, loader = task.split()
        _plugin("extractors", extractor)
        _plugin("loaders", loader)

"""The webhook recipe in examples/webhooks: the Procfile's receiver runs, the alert rules name
metrics the receiver exports, and the env file names real settings."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import yaml

from tap_xero.tap import TapXero
from tests._webhooks_support import Receiver
from tests.meltano_support import free_port

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "examples" / "webhooks"


def _procfile() -> dict[str, str]:
    lines = (RECIPE / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_alert_rules_name_metrics_the_receiver_exports() -> None:
    rules = yaml.safe_load((RECIPE / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} >= {
        "XeroWebhookQueueGrowing",
        "XeroWebhookOldestEventTooOld",
        "XeroWebhookSignatureFailures",
        "XeroReconcileMisses",
    }
    with Receiver() as receiver:
        text = httpx.get(f"{receiver.base}/metrics").text
    exported = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        exported.add(name)
        if kind == "counter":
            exported.add(f"{name}_total")
    named = {m for rule in rules for m in re.findall(r"xero_webhooks_\w+", rule["expr"])}
    assert named, "the rules name no receiver metric"
    assert named <= exported, named - exported
    for rule in rules:
        assert rule["labels"]["severity"], rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_procfile_receiver_starts_and_answers(tmp_path: Path) -> None:
    processes = _procfile()
    assert set(processes) == {"receiver", "scheduler", "webserver"}
    for name in ("scheduler", "webserver"):
        assert "orchestrate/dagster/definitions.py" in processes[name]
    assert (REPO / "orchestrate" / "dagster" / "definitions.py").exists()
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "XERO_WEBHOOK_KEY": "procfile-key",
        "XERO_WEBHOOK_PORT": str(port),
        "XERO_WEBHOOK_QUEUE": str(tmp_path / "queue.db"),
    }
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {processes['receiver']}"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the Procfile's receiver did not start"
                time.sleep(0.2)
        assert answer.status_code == 200
        assert (tmp_path / "queue.db").exists()
    finally:
        proc.terminate()
        proc.wait(30)


def test_env_example_names_real_settings() -> None:
    names = [
        line.split("=", 1)[0]
        for line in (RECIPE / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    settings = set(TapXero.config_jsonschema["properties"])
    for name in names:
        if name.startswith("TAP_XERO__"):  # a Meltano extra of the plugin, not a tap setting
            assert name[len("TAP_XERO__") :].lower() in {"catalog", "select", "metadata"}, name
        elif name.startswith("TAP_XERO_"):
            assert name[len("TAP_XERO_") :].lower() in settings, name
    used = (REPO / "orchestrate" / "dagster" / "definitions.py").read_text() + _procfile()[
        "receiver"
    ]
    for name in names:
        if name.startswith(("XERO_", "MELTANO_", "DAGSTER_")) and name != "DAGSTER_HOME":
            assert name in used or name == "XERO_WEBHOOK_KEY", name

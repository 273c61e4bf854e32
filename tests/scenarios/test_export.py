"""Every exported script (sync, async, with_transaction) runs against a sandbox and
reproduces the scenario's outcome: the same per-step outcomes and the same final data."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from mongotx_tui.scenario import builtin_names, load_scenario
from mongotx_tui.scenario.export import export_script
from mongotx_tui.scenario.record import RunRecord
from mongotx_tui.scenario.runner import run_scenario

STEP = re.compile(r"^step (\d+) .*\n    -> (.*)$", re.M)
LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")
_records: dict[str, RunRecord] = {}


def headless(name: str, uri: str) -> RunRecord:
    if name not in _records:
        _records[name] = asyncio.run(run_scenario(load_scenario(name), uri))
    return _records[name]


def expected_outcomes(record: RunRecord) -> dict[int, str]:
    out = {}
    for s in record.steps:
        if s.action.startswith("sleep"):
            continue
        if s.error is None:
            out[s.index] = "ok"
        else:
            labels = [label for label in LABELS if label in s.error["labels"]]
            out[s.index] = f"error {s.error['code']}" + (f" {labels}" if labels else "")
    return out


def script_outcomes(stdout: str) -> dict[int, str]:
    out = {}
    for number, line in STEP.findall(stdout):
        if line.startswith("ok"):
            out[int(number)] = "ok"
        else:
            code = line.split()[1]
            labels = [label for label in LABELS if label in line]
            out[int(number)] = f"error {code}" + (f" {labels}" if labels else "")
    return out


def final_state(uri: str, record: RunRecord) -> dict[str, list[dict[str, Any]]]:
    with MongoClient(uri) as client:
        db = client[record.database]  # the database it ran in (one of its own by URI)
        return {name: list(db[name].find({}, sort=[("_id", 1)])) for name in record.final}


def run_script(tmp_path: Path, code: str, uri: str) -> str:
    path = tmp_path / "exported.py"
    path.write_text(code)
    proc = subprocess.run(
        [sys.executable, str(path), uri], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", builtin_names())
def test_exported_script_reproduces_the_run(name: str, aio: bool, uri: str, tmp_path: Path) -> None:
    record = headless(name, uri)
    assert record.passed
    stdout = run_script(tmp_path, export_script(load_scenario(name), aio=aio), uri)
    assert script_outcomes(stdout) == expected_outcomes(record), stdout
    assert final_state(uri, record) == record.final


@pytest.mark.parametrize("name", builtin_names())
def test_with_transaction_script_reaches_the_same_data(name: str, uri: str, tmp_path: Path) -> None:
    record = headless(name, uri)
    code = export_script(load_scenario(name), with_transaction=True)
    stdout = run_script(tmp_path, code, uri)
    assert "error" not in "".join(
        line for line in stdout.splitlines() if "with_transaction" in line
    )
    assert final_state(uri, record) == record.final, stdout


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("with_txn", [False, True], ids=["explicit", "with_transaction"])
def test_exported_code_is_ruff_clean(aio: bool, with_txn: bool, tmp_path: Path) -> None:
    for name in builtin_names():
        path = tmp_path / f"{name.replace('-', '_')}.py"
        path.write_text(export_script(load_scenario(name), aio=aio, with_transaction=with_txn))
    rules = ["--select", "E,F,W,I,B,UP", "--ignore", "E501"]
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", *rules, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout


def test_every_operation_carries_its_session() -> None:
    for name in builtin_names():
        code = export_script(load_scenario(name))
        for line in code.splitlines():
            if "lambda: " in line and "_transaction(" not in line and "client.admin" not in line:
                assert "session=" in line, line

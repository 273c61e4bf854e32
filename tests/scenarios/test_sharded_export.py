"""The exported script of the recovery-token lesson (issue 15 item 5) runs against a
sharded sandbox with two routers, in place, and reproduces the headless run: each step's
outcome (`recoverCommit` included: commitTransaction with the recovery token through a
new connection) and the final documents. Sync and async; every sharded lesson's export
is ruff clean."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mongotx_sandbox import ThreadedShardedSandbox
from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.scenario import load_scenario
from mongotx_tui.scenario.export import export_script
from mongotx_tui.scenario.library import sharded_names
from tests.scenarios.test_export import expected_outcomes, final_state, script_outcomes

LESSON = "commit-recovered-with-token"


@pytest.fixture(scope="module")
def two_routers() -> Iterator[str]:
    cluster = ThreadedShardedSandbox()
    first = cluster.start()
    second = cluster.call(cluster.cluster.add_router)
    hosts = [u.partition("://")[2].partition("/")[0] for u in (first, second)]
    try:
        yield f"mongodb://{','.join(hosts)}/"
    finally:
        cluster.stop()


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_exported_recovery_lesson_reproduces_the_run(
    aio: bool, two_routers: str, tmp_path: Path
) -> None:
    scenario = load_scenario(LESSON)
    record = asyncio.run(run_scenario(scenario, two_routers, allow_drop=True))
    assert record.passed
    path = tmp_path / "exported.py"
    path.write_text(export_script(scenario, aio=aio))
    proc = subprocess.run(
        [sys.executable, str(path), two_routers, "--allow-drop"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert script_outcomes(proc.stdout) == expected_outcomes(record), proc.stdout
    assert "step 10 A recoverCommit\n    -> ok 'committed through a new connection" in proc.stdout
    assert final_state(two_routers, record) == record.final


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("with_txn", [False, True], ids=["explicit", "with_transaction"])
def test_sharded_exports_are_ruff_clean(aio: bool, with_txn: bool, tmp_path: Path) -> None:
    for name in sharded_names():
        path = tmp_path / f"{name.replace('-', '_')}.py"
        path.write_text(export_script(load_scenario(name), aio=aio, with_transaction=with_txn))
    rules = ["--select", "E,F,W,I,B,UP", "--ignore", "E501"]
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", *rules, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout

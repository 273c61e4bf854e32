"""The sharded cluster's lessons (issue 15 item 5) run headless against a sharded
sandbox's router, in place (their steps shard bank.accounts), and meet their expectations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mongotx_sandbox import ThreadedShardedSandbox
from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.scenario import load_scenario
from mongotx_tui.scenario.record import table

LESSONS = sorted(
    (Path(__file__).parents[2] / "tui" / "mongotx_tui" / "scenario" / "sharded").glob("*.yaml")
)


@pytest.fixture(scope="module")
def router_uri() -> Iterator[str]:
    with ThreadedShardedSandbox() as uri:
        yield uri


def test_there_are_lessons() -> None:
    assert len(LESSONS) >= 6
    assert all(load_scenario(str(p)).sharded for p in LESSONS)


def test_run_starts_a_sharded_sandbox_for_a_sharded_lesson(capsys) -> None:  # type: ignore[no-untyped-def]
    """`mongotx-tui run NAME` (no URI) on a `sharded: true` lesson: a sharded sandbox of its
    own, in place; `scenarios` lists the lessons apart."""
    from mongotx_tui.cli import main

    assert main(["run", "write-waits-behind-prepare"]) == 0
    out = capsys.readouterr().out
    assert "a sharded sandbox (a router, 2 shards), started for this run" in out
    assert "12/12 steps as expected" in out
    assert main(["scenarios"]) == 0
    listed = capsys.readouterr().out
    assert "What a cross-shard commit costs [sharded cluster]" in listed


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
async def test_sharded_lesson_meets_expectations(path: Path, router_uri: str) -> None:
    scenario = load_scenario(str(path))
    assert scenario.verdict and scenario.description and scenario.teaches
    record = await run_scenario(scenario, router_uri, in_place=True, allow_drop=True)
    assert record.passed, table(record)


def test_a_commit_recovered_through_another_router(capsys) -> None:  # type: ignore[no-untyped-def]
    """`run commit-recovered-with-token` starts a cluster with two routers: the step
    `recoverCommit` sends commitTransaction with the recovery token through the router the
    transaction never went to, and gets the coordinator's decision once it is written."""
    from mongotx_tui.cli import main

    assert main(["run", "commit-recovered-with-token", "--json"]) == 0
    out = capsys.readouterr().out
    import json

    record = json.loads(out[out.index("{") :])
    assert record["server"].count(",") == 1  # two routers in the URI
    steps = {s["index"]: s for s in record["steps"]}
    assert all(s["match"] for s in record["steps"]), record["steps"]
    assert steps[10]["action"] == "recoverCommit" and steps[10]["blocked"]
    assert steps[10]["outcome"].startswith("committed through a new connection to another router")

"""A capture of the sample application replays on a fresh sandbox with the same outcomes;
a replay whose outcome differs says at which step."""

from __future__ import annotations

import asyncio

from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.backend.proxy import ProxyHandle
from mongotx_tui.backend.proxy.collect import Collector
from mongotx_tui.scenario.capture import capture_data
from mongotx_tui.scenario.loader import parse_scenario
from mongotx_tui.scenario.save import dump

from .sample_app import run_sync


def _replay(text: str):  # type: ignore[no-untyped-def]
    return asyncio.run(run_scenario(parse_scenario(text, "capture.yaml")))


def test_capture_replays_on_a_fresh_sandbox(proxy: ProxyHandle, collector: Collector) -> None:
    run_sync(proxy.app_uri())
    data = capture_data(collector.records(), name="sample")
    actions = [(s.get("session"), s["action"]) for s in data["steps"]]
    assert actions.count(("S1", "startTransaction")) == 1
    errors = [s for s in data["steps"] if "error" in s]
    assert [e["error"]["code"] for e in errors] == [112, 112]
    retried = [s for s in data["steps"] if "2 times" in s.get("note", "")]
    assert [s["action"] for s in retried] == ["insert"]
    record = _replay(dump(data))
    assert record.passed, [(s.index, s.reason) for s in record.steps if not s.match]
    assert len(record.steps) == len(data["steps"])


def test_a_replay_that_differs_names_the_step(proxy: ProxyHandle, collector: Collector) -> None:
    run_sync(proxy.app_uri())
    data = capture_data(collector.records(), name="sample")
    # The application's second writer did not conflict this time: its expectation differs.
    index = next(i for i, s in enumerate(data["steps"]) if "error" in s)
    del data["steps"][index]["error"]
    record = _replay(dump(data))
    assert not record.passed
    assert [s.index for s in record.steps if not s.match] == [index + 1]
    assert "112" in record.steps[index].reason or "WriteConflict" in record.steps[index].outcome

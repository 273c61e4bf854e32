"""Run one scenario step on its session, through the workbench's LaneRunner."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.errors import ErrorInfo
from ..model.lanes import Lane, QueuedOp
from ..model.ops import StepAction
from ..scenario.matching import normalize
from ..scenario.model import Scenario, Step
from .operations import error_info, execute
from .sessions import LaneRunner, txn_kwargs

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient


@dataclass
class Outcome:
    error: ErrorInfo | None = None
    result: Any = None
    summary: str = "ok"
    ms: float | None = None


class Sessions:
    """One LaneRunner per scenario session, all on one client (the workbench passes its
    lanes' runners; headless runs make their own)."""

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        scenario: Scenario,
        runners: dict[str, LaneRunner] | None = None,
    ) -> None:
        self.client = client
        self.scenario = scenario
        self.runners: dict[str, LaneRunner] = dict(runners or {})
        for i, s in enumerate(scenario.sessions):
            if s.name in self.runners:
                continue
            lane = Lane(id=i + 1, name=s.name, colour="", txn_options=s.txn)
            self.runners[s.name] = LaneRunner(
                client, lane, scenario.setup.database, time.time, time.perf_counter
            )

    async def close(self) -> None:
        for runner in self.runners.values():
            if runner.session is not None and not runner.lock.locked():
                try:
                    await runner.end_session()
                except Exception:
                    pass

    async def run(self, step: Step, item: QueuedOp | None = None) -> Outcome:
        """Run the step; an operation runs as `item` when given (the workbench's queue item)."""
        t0 = time.perf_counter()
        try:
            out = await self._run(step, item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            out = Outcome(error_info(exc))
        if out.ms is None:
            out.ms = (time.perf_counter() - t0) * 1000
        if out.error is not None:
            out.summary = out.error.one_line()
        return out

    async def _run(self, step: Step, item: QueuedOp | None = None) -> Outcome:
        if step.action == StepAction.SLEEP:
            await asyncio.sleep(step.seconds)
            return Outcome(summary=f"slept {step.seconds:g}s")
        if step.action == StepAction.FAIL_POINT:
            cmd = {"configureFailPoint": "failCommand", **step.failpoint}
            return Outcome(result=await self.client.admin.command(cmd), summary="fail point set")
        runner = self.runners[step.session or ""]
        if step.spec is not None:
            item = await runner.run(item or QueuedOp(step.spec))
            return Outcome(item.error, item.result, item.summary, item.duration_ms)
        if step.action == StepAction.START_TRANSACTION:
            await runner.start_transaction(step.txn)
            if runner.lane.last_error is not None:  # pragma: no cover - LaneRunner raises
                return Outcome(runner.lane.last_error)
            return Outcome(summary=f"txn {runner.lane.txn_number} starting")
        if step.action in (StepAction.COMMIT, StepAction.ABORT):
            fn = runner.commit if step.action == StepAction.COMMIT else runner.abort
            summary, err, ms = await fn()
            return Outcome(err, None, summary, ms)
        if step.action == StepAction.END_SESSION:
            await runner.end_session()
            return Outcome(summary="session ended")
        return await self._with_transaction(runner, step)

    async def _with_transaction(self, runner: LaneRunner, step: Step) -> Outcome:
        """pymongo's with_transaction around the step's ops; counts the callback's runs."""
        db = self.client[self.scenario.setup.database]
        attempts = 0

        async def callback(session: Any) -> list[Any]:
            nonlocal attempts
            attempts += 1
            return [normalize((await execute(db, spec, session))[0]) for spec in step.ops]

        opts = step.txn or runner.lane.txn_options
        async with runner.lock:
            session = runner.ensure_session()
            results = await session.with_transaction(callback, **txn_kwargs(opts))
        runs = "once" if attempts == 1 else f"{attempts} times"
        return Outcome(
            result={"attempts": attempts, "results": results},
            summary=f"committed; the callback ran {runs}",
        )

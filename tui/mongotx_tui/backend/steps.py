"""One step on its session: the execution that every player shares.

The workbench's keys and a scenario played in the workbench go through
`Workbench.run_step`, which journals the step, follows it on the lane and the timeline and
reads what it changed; a headless run (backend.headless) calls `execute_step` directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.error_info import ErrorInfo
from ..model.journal import Played
from ..model.lanes import Lane, QueuedOp
from ..model.ops import StepAction
from ..model.timeline import EventKind
from .lane_runner import LaneRunner, txn_kwargs
from .operations import error_info, execute

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

    from ..scenario.definition import Scenario, Step

# What a busy lane says it is busy with, per action (LaneBusy's message).
BUSY_WITH = {
    StepAction.START_TRANSACTION: "start transaction",
    StepAction.COMMIT: "commit",
    StepAction.ABORT: "abort",
    StepAction.END_SESSION: "end session",
}
# Steps whose error is the lane's last error (an operation's and a commit's are set where
# they run: LaneRunner).
BECOMES_LAST_ERROR = (StepAction.START_TRANSACTION, StepAction.WITH_TRANSACTION)
# Steps after which the committed page is read again (besides an operation outside a
# transaction) when no change stream pushes what they commit or change.
REFRESH_COMMITTED = (
    StepAction.COMMIT,
    StepAction.WITH_TRANSACTION,
    StepAction.FAIL_POINT,
    StepAction.RECOVER_COMMIT,
)


@dataclass
class Outcome:
    """How a step went: the server's error or the result, a one-line summary, the time."""

    error: ErrorInfo | None = None
    result: Any = None
    summary: str = ""
    ms: float | None = None


# A step's timeline row, made from its outcome and its journal entry: (kind, what,
# outcome, ok, ms) and, for a scenario's step, its check.
RowText = (
    tuple[EventKind, str, str, bool, float | None]
    | tuple[EventKind, str, str, bool, float | None, str]
)
Row = Callable[[Outcome, Played], RowText]


async def execute_step(
    step: Step,
    runner: LaneRunner | None,
    client: AsyncMongoClient[dict[str, Any]],
    database: str,
    *,
    item: QueuedOp | None = None,
    outside: bool = False,
    perf: Callable[[], float] = time.perf_counter,
    scrub: Callable[[str], str] | None = None,
) -> Outcome:
    """Run the step on `runner`'s session (an operation as `item` when given: the lane's
    queue item; with `outside`, on no session). Errors become the outcome, never raised."""
    t0 = perf()
    try:
        out = await _execute(step, runner, client, database, item, outside)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        out = Outcome(error_info(exc, scrub))
    if out.ms is None:
        out.ms = (perf() - t0) * 1000
    if not out.summary:  # commit and abort bring their own (what the reply means)
        out.summary = out.error.one_line() if out.error is not None else "ok"
    return out


async def _execute(
    step: Step,
    runner: LaneRunner | None,
    client: AsyncMongoClient[dict[str, Any]],
    database: str,
    item: QueuedOp | None,
    outside: bool,
) -> Outcome:
    if step.action == StepAction.SLEEP:
        await asyncio.sleep(step.seconds)
        return Outcome(summary=f"slept {step.seconds:g}s")
    if step.action == StepAction.FAIL_POINT:
        from ..model.faults import configure_command

        cmd = configure_command(step.failpoint)
        done = "fail point off" if step.failpoint.get("mode") == "off" else "fail point set"
        return Outcome(result=await client.admin.command(cmd), summary=done)
    if runner is None:
        raise ValueError(f"{step.action} needs a session")
    if step.spec is not None:
        item = await runner.run(item or QueuedOp(step.spec), outside=outside)
        return Outcome(item.error, item.result, item.summary, item.duration_ms)
    if step.action == StepAction.START_TRANSACTION:
        await runner.start_transaction(step.txn)
        return Outcome(summary=f"txn {runner.lane.txn_number} starting")
    if step.action in (StepAction.COMMIT, StepAction.ABORT):
        fn = runner.commit if step.action == StepAction.COMMIT else runner.abort
        summary, err, ms = await fn()
        return Outcome(err, None, summary, ms)
    if step.action == StepAction.END_SESSION:
        await runner.end_session()
        return Outcome(summary="session ended")
    if step.action == StepAction.RECOVER_COMMIT:
        from .recovery import recover_commit

        # Not under the runner's lock: the session's own commit may still be waiting on
        # its router; this one goes through a new connection.
        lane = runner.lane
        summary = await recover_commit(runner.session, runner.client, lane.txn_number, 60.0)
        return Outcome(summary=summary)
    # the lane's own client: a lane with options of its own (retryWrites) has one
    return await _with_transaction(runner, step, runner.client[database])


async def _with_transaction(runner: LaneRunner, step: Step, db: Any) -> Outcome:
    """pymongo's with_transaction around the step's ops; counts the callback's runs."""
    from ..scenario.matching import normalize  # on first use: the workbench starts without

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


class ScenarioSessions:
    """A headless run's sessions: one LaneRunner per scenario session, on one client."""

    def __init__(
        self, client: AsyncMongoClient[dict[str, Any]], scenario: Scenario, uri: str = ""
    ) -> None:
        from .lane_options import LaneClients

        self.client = client
        self.database = scenario.setup.database
        self.runners: dict[str, LaneRunner] = {}
        self.ran: dict[int, tuple[bool, int | None]] = {}  # step index -> (in txn, txn number)
        self.clients = LaneClients()  # sessions with retryWrites off get their own
        for i, s in enumerate(scenario.sessions):
            lane = Lane(id=i + 1, name=s.name, colour="", txn_options=s.txn, options=s.options)
            own = self.clients.client_for(lane, uri, list, client) if uri else client
            self.runners[s.name] = LaneRunner(
                own, lane, lambda: self.database, time.time, time.perf_counter
            )

    async def run(self, step: Step) -> Outcome:
        runner = self.runners.get(step.session or "")
        item = QueuedOp(step.spec) if step.spec is not None and runner is not None else None
        out = await execute_step(step, runner, self.client, self.database, item=item)
        # for the history: whether it ran in the lane's transaction, and that one's number
        number = runner.lane.txn_number if runner is not None else None
        self.ran[step.index] = (item.in_txn if item is not None else False, number)
        return out

    async def close(self) -> None:
        for runner in self.runners.values():
            if runner.session is not None and not runner.lock.locked():
                try:
                    await runner.end_session()
                except Exception:
                    pass
        await self.clients.close_all()

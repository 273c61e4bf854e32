"""A scenario played in the workbench, one step at a time, in the scenario's order.

`load()` sets the scenario up on the workbench's deployment and puts one lane per session,
each with its steps. The UI takes the next step (`take_next`, synchronous, so steps are
taken in order however fast the key is pressed) and runs it in a worker of its own
(`run`). A step waits until the previous one has finished; a `blocks_until` step lets the
next one start once it has reached the server and keeps running, and the step it waits for
finishes only when it has. Each outcome is checked against the step's expectation as it
finishes: on the lane's item, on a timeline row and in the journal. No textual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from ..model.events import Changed, Notify
from ..model.journal import Played
from ..model.lanes import Lane, LaneOptions, QueuedOp, TxnOptions
from ..model.ops import OpSpec
from ..model.timeline import EventKind, Timeline
from ..scenario.placement import PREFIX, protected
from ..scenario.schedule import SETTLE_S, STUCK_S, Schedule, judge, mismatch_text
from .setup import Prepared, prepare, restore
from .steps import Outcome, Row, RowText

if TYPE_CHECKING:
    from ..scenario.definition import Scenario, Step


class Bench(Protocol):
    """What a play uses of its workbench (backend.workbench.Workbench, which loads plays:
    named here rather than imported, so the two modules do not import each other)."""

    client: Any
    uri: str
    timeline: Timeline
    clock: Callable[[], float]
    notify: Notify

    @property
    def is_sandbox(self) -> bool: ...
    def scrub(self, text: str) -> str: ...
    def lane(self, lane_id: int) -> Lane: ...
    def enqueue(
        self, lane_id: int, spec: OpSpec | None, index: int | None = None, *, step: Any = None
    ) -> QueuedOp: ...
    async def replace_lanes(
        self, sessions: list[tuple[str, TxnOptions, LaneOptions]]
    ) -> list[Lane]: ...
    async def read_lifetime_limit(self) -> float | None: ...
    async def run_step(
        self,
        step: Step,
        lane: Lane | None,
        row: Row,
        *,
        item: QueuedOp | None = None,
        outside: bool = False,
        guard: bool = True,
    ) -> Outcome: ...


class ScenarioPlay:
    def __init__(self, wb: Bench, scenario: Scenario, allow_drop: Collection[str] = ()) -> None:
        """`scenario` is placed in the database it runs in (setup.placed); `allow_drop`
        names the occupied namespaces the user agreed to drop (see setup.prepare)."""
        self.wb = wb
        self.scenario = scenario
        self.schedule = Schedule(scenario)
        self.allow_drop = frozenset(allow_drop)
        self.prepared: Prepared | None = None
        self.items: dict[int, QueuedOp] = {}  # step index -> its item in a lane
        self.lane_ids: dict[str, int] = {}  # session -> lane id
        self.position = 0  # steps taken so far
        self.checks: dict[int, str] = {}  # finished steps: "" as expected, else the mismatch
        self.outcomes: dict[int, str] = {}
        self.blocked: dict[int, bool] = {}  # blocks_until steps still running at their step
        self._tasks: dict[int, asyncio.Future[Outcome]] = {}
        self._released: dict[int, asyncio.Event] = {}
        self.finished = False
        self.restored = False
        self.set_up_on = ""  # the URI of the deployment the setup ran on

    # -- loading ----------------------------------------------------------------------
    async def load(self) -> None:
        wb, scenario = self.wb, self.scenario
        own = wb.owns_deployment
        self.prepared = await prepare(wb.client, scenario, own=own, allow_drop=self.allow_drop)
        self.set_up_on = wb.uri
        lanes = await wb.replace_lanes(
            [(s.name, replace(s.txn), replace(s.options)) for s in scenario.sessions]
        )
        for lane in lanes:
            self.lane_ids[lane.name] = lane.id
        for step in scenario.steps:
            if step.session:
                item = wb.enqueue(self.lane_ids[step.session], step.spec, step=step)
                self.items[step.index] = item
        wb.timeline.add(
            wb.clock(), "", EventKind.INFO, f"scenario {scenario.name}", scenario.title, True
        )
        for note in self.setup_notes(own):
            wb.timeline.add(wb.clock(), "", EventKind.INFO, "scenario setup", note, True)
        for note in self.prepared.notes:
            wb.timeline.add(wb.clock(), "", EventKind.INFO, "scenario setup", note, False)
        wb.notify(Changed.LANES, None)
        wb.notify(Changed.TIMELINE, None)

    def setup_notes(self, own: bool) -> list[str]:
        """Where the setup ran, for the timeline (a deployment other than the sandbox)."""
        if own:
            return []
        db = self.scenario.setup.database
        names = ", ".join(c.name for c in self.scenario.setup.collections) or "no collections"
        if db.startswith(PREFIX):
            return [f"in {db}, a database of the scenario's own: {names} dropped and refilled"]
        dropped = ", ".join(sorted(self.allow_drop))
        return [
            f"in {db}: {names} set up" + (f"; dropped {dropped} as confirmed" if dropped else "")
        ]

    async def close(self) -> None:
        """Cancel what still runs and put the server back (parameters, fail point)."""
        for task in self._tasks.values():
            if not task.done():
                task.cancel()
        await self._restore()

    async def _restore(self) -> None:
        if self.restored or self.prepared is None:
            return
        self.restored = True
        try:
            await restore(self.wb.client, self.scenario, self.prepared)
            if self.prepared.restore:  # it set server parameters back: read the limit again
                await self.wb.read_lifetime_limit()
        except Exception as exc:
            from .operations import error_info

            info = error_info(exc, self.wb.scrub)
            self.wb.timeline.add(
                self.wb.clock(), "", EventKind.INFO, "scenario restore", info.one_line(), False
            )
            self.wb.notify(Changed.TIMELINE, None)

    # -- state ------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.scenario.steps)

    @property
    def next_step(self) -> Step | None:
        steps = self.scenario.steps
        return steps[self.position] if self.position < len(steps) else None

    @property
    def matched(self) -> int:
        return sum(1 for reason in self.checks.values() if not reason)

    @property
    def passed(self) -> bool:
        return self.finished and self.matched == self.total

    def summary(self) -> str:
        """`7/8 steps as expected` (or how far it got)."""
        if self.finished:
            return f"{self.matched}/{self.total} steps as expected"
        return f"{len(self.checks)}/{self.total} steps run, {self.matched} as expected"

    # -- stepping ---------------------------------------------------------------------
    def moved_problem(self) -> str | None:
        """Why the next step must not run here: the deployment was switched (F2) to one
        reached by a URI, where the scenario's database was never set up and belongs to
        the user (its steps would write there). None when it may run."""
        wb = self.wb
        db = self.scenario.setup.database
        if wb.uri == self.set_up_on or not protected(db, wb.owns_deployment):
            return None
        return (
            f"The scenario was set up on another deployment; here its steps would write to "
            f"{db}, which it has not set up. Load it again (l) to set it up here."
        )

    def take_next(self) -> Step | None:
        """The next step in the scenario's order, reserved for the caller to `run`."""
        step = self.next_step
        if step is None:
            return None
        self.position += 1
        self._released[step.index] = asyncio.Event()
        return step

    async def run(self, step: Step) -> None:
        """Run a taken step once the one before it has finished; check its outcome."""
        before = self._released.get(step.index - 1)
        if before is not None:
            await before.wait()
        for index in self.schedule.released_by(step.index, self._tasks):
            self.blocked[index] = not self._tasks[index].done()
        blocks = step.expect.blocks_until is not None
        task = asyncio.ensure_future(self._execute(step))
        self._tasks[step.index] = task
        try:
            await asyncio.wait({task}, timeout=SETTLE_S if blocks else STUCK_S)
            if not blocks:
                # the steps that waited for this one finish before the next step starts
                for index in self.schedule.released_by(step.index, self._tasks):
                    if index != step.index:
                        await asyncio.wait({self._tasks[index]}, timeout=STUCK_S)
            self._released[step.index].set()
            await task
        finally:
            if not task.done():
                task.cancel()
            self._released[step.index].set()
        if self.position >= self.total and len(self.checks) >= self.total:
            await self._finish()

    async def _execute(self, step: Step) -> Outcome:
        """The step through the workbench's one pipeline, on its lane and its queue item;
        a busy lane is the step's error (guard=False), so the order goes on."""
        lane_id = self.lane_ids.get(step.session or "")
        lane = self.wb.lane(lane_id) if lane_id is not None else None
        item = self.items.get(step.index)
        return await self.wb.run_step(step, lane, self._row(step, item), item=item, guard=False)

    def _row(self, step: Step, item: QueuedOp | None) -> Row:
        """The step's timeline row, with its check: `3. update {_id: 1} (txn)`."""

        def row(out: Outcome, entry: Played) -> RowText:
            text = self._check(step, out, overlapped=entry.overlapped_by > entry.seq)
            what = f"{step.index}. {step.label()}"
            if out.error is None and step.spec is not None and item is not None and item.in_txn:
                what += " (txn)"
            kind = EventKind.TXN if step.spec is None else EventKind.OP
            return kind, what, out.summary, out.error is None, out.ms, text

        return row

    def _check(self, step: Step, out: Outcome, overlapped: bool) -> str:
        """Judge the outcome against the step's expectation; '' when it matches."""
        blocked = self.blocked.get(step.index, False)
        reason = judge(step, out.error, out.result, blocked=blocked, overlapped=overlapped)
        text = mismatch_text(step, out.summary, reason) if reason else ""
        self.checks[step.index] = text
        self.outcomes[step.index] = out.summary
        item = self.items.get(step.index)
        if item is not None:
            item.check = text
        self.wb.notify(Changed.SCENARIO, None)
        return text

    async def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        await self._restore()
        wb = self.wb
        failed = self.total - self.matched
        outcome = self.scenario.verdict
        wb.timeline.add(
            wb.clock(),
            "",
            EventKind.INFO,
            f"verdict · {self.summary()}",
            outcome,
            failed == 0,
            check="" if failed == 0 else None,
        )
        wb.notify(Changed.TIMELINE, None)
        wb.notify(Changed.SCENARIO, None)


__all__ = ["ScenarioPlay"]

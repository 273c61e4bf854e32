"""Fault injection from the workbench: set and turn off the `failCommand` fail point, and
follow its firings in the command monitor's records. No textual.

Setting and turning off are scenario `failPoint` steps run through the one step pipeline
(Workbench.run_step → backend.steps, which sends configureFailPoint to admin): they are
journaled, so a saved scenario and the code export hold them too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..model.events import Changed, Notify
from ..model.faults import ActiveFailPoint, FaultSpec, configure_command, fired_by, refusal
from ..model.ops import StepAction
from ..model.timeline import EventKind, Timeline

if TYPE_CHECKING:
    from ..model.journal import Played
    from ..model.lanes import Lane
    from ..scenario.definition import Step
    from .monitor import CommandMonitor
    from .steps import Outcome, Row, RowText


class Bench(Protocol):
    """What fault injection uses of its workbench (backend.workbench.Workbench, which makes
    it: named here rather than imported, so the two modules do not import each other)."""

    client: Any
    uri: str
    monitor: CommandMonitor | None
    timeline: Timeline
    clock: Callable[[], float]
    notify: Notify

    async def run_step(self, step: Step, lane: Lane | None, row: Row) -> Outcome: ...


class FaultInjector:
    """The workbench's fail point: at most one (the server keeps one `failCommand`; setting
    it again replaces it)."""

    def __init__(self, wb: Bench) -> None:
        self.wb = wb
        self.active: ActiveFailPoint | None = None
        self.refused = ""  # the sentence saying this deployment refuses fail points
        self._refused_at = ""  # the URI it was said for
        self._hooked: Any = None  # the monitor whose on_change we follow

    @property
    def refused_here(self) -> str:
        """The refusal, for the deployment connected now (a switch forgets it)."""
        return self.refused if self._refused_at == self.wb.uri else ""

    async def set(self, spec: FaultSpec, title: str) -> Outcome:
        """Configure the fail point; the outcome's error is the server's refusal, if any."""
        problem = spec.problem()
        if problem is not None:
            raise ValueError(problem)
        self._follow()
        since = self._last_seq()

        def row(out: Outcome, _: Played) -> RowText:
            if out.error is not None:
                return EventKind.INFO, f"fail point: {title}", out.summary, False, out.ms
            return EventKind.INFO, f"fail point: {title}", f"set · {spec.describe()}", True, out.ms

        out = await self.wb.run_step(self._step(spec.failpoint()), None, row)
        if out.error is not None:
            sentence = refusal(out.error.code, out.error.code_name)
            if sentence is not None:
                self.refused, self._refused_at = sentence, self.wb.uri
            self.wb.notify(Changed.FAULTS, None)
            return out
        self.active = ActiveFailPoint(spec, title, since)
        self.check()  # a command answered meanwhile may have fired it already
        self.wb.notify(Changed.FAULTS, None)
        return out

    async def turn_off(self) -> Outcome | None:
        """configureFailPoint mode off; None when none was set. MongoDB's reply has `count`,
        the times the fail point was entered (mongodb/mongo
        src/mongo/db/commands/fail_point_cmd.cpp, FaultInjectCmd::run); the sandbox's reply
        is `{ok: 1}` alone, so the row gives the firings the monitor saw, and `count` where
        the reply has it."""
        active = self.active
        if active is None:
            return None

        def row(out: Outcome, _: Played) -> RowText:
            if out.error is not None:
                return EventKind.INFO, "fail point off", out.summary, False, out.ms
            count = out.result.get("count") if isinstance(out.result, dict) else None
            said = f"; the server says it was entered {count} times" if count is not None else ""
            seen = f"turned off after {active.fired} firing{'s' if active.fired != 1 else ''}"
            return EventKind.INFO, "fail point off", seen + said, True, out.ms

        off = {**active.spec.failpoint(), "mode": "off"}  # data kept: the saved step loads back
        out = await self.wb.run_step(self._step(off), None, row)
        if out.error is None:
            self.active = None
        self.wb.notify(Changed.FAULTS, None)
        return out

    async def close(self) -> None:
        """Leaving the deployment: turn the fail point off there, quietly (not a step)."""
        if self.active is None or self.wb.client is None:
            return
        off = configure_command({**self.active.spec.failpoint(), "mode": "off"})
        self.active = None
        try:
            await self.wb.client.admin.command(off)
        except Exception:
            pass

    def _step(self, failpoint: dict[str, Any]) -> Any:
        from ..scenario.definition import Step  # on first use, as the workbench does

        return Step(index=0, line=0, action=StepAction.FAIL_POINT, failpoint=failpoint)

    # -- firings --------------------------------------------------------------------------
    def _last_seq(self) -> int:
        monitor = self.wb.monitor
        return monitor.log.records[-1].seq if monitor is not None and monitor.log.records else 0

    def _follow(self) -> None:
        """Judge each command the monitor records as it changes (the monitor exists once a
        client does)."""
        monitor = self.wb.monitor
        if monitor is None or self._hooked is monitor:
            return
        self._hooked = monitor
        previous = monitor.on_change

        def on_change() -> None:
            previous()
            self.check()

        monitor.on_change = on_change

    def check(self) -> None:
        """A timeline row for each command whose reply shows the fail point fired; the
        fail point is gone once it fired its `times`."""
        active, monitor = self.active, self.wb.monitor
        if active is None or monitor is None:
            return
        # Only what is new since the last look, and what was still awaiting its reply: a
        # long-lived fail point costs each command event little, whatever the log holds.
        new = []
        for record in reversed(monitor.log.records):
            if record.seq <= active.since_seq:
                break
            new.append(record)
        if new:
            active.since_seq = new[0].seq
        waiting, fresh = [], []
        for record in [*active.waiting, *reversed(new)]:
            if record.pending:
                waiting.append(record)
                continue
            how = fired_by(active.spec, record)
            if how is not None:
                fresh.append((record, how))
        active.waiting = waiting
        fresh.sort(key=lambda pair: pair[0].seq)
        for record, how in fresh:
            active.fired += 1
            who = "" if record.internal else record.lane
            what = f"fail point fired: {record.name}"
            if record.attempt > 1:
                what += f" (attempt {record.attempt})"
            if record.internal:
                what += " (the workbench's own read)"
            self.wb.timeline.add(self.wb.clock(), who, EventKind.INFO, what, how, False)
            self.wb.notify(Changed.TIMELINE, None)
            if active.left == 0:
                self.active = None
                self.wb.notify(Changed.FAULTS, None)
                return
        if fresh:
            self.wb.notify(Changed.FAULTS, None)

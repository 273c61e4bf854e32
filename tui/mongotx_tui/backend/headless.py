"""Headless runs: every step in order across sessions, each checked against its expectation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..model.history import History
from ..scenario.definition import Scenario, Step
from ..scenario.matching import normalize
from ..scenario.placement import placed, run_database
from ..scenario.record import RunRecord, StepRecord
from ..scenario.schedule import SETTLE_S, STUCK_S, Schedule, judge
from .connection import SANDBOX_NAME, make_client, mask_uri
from .history_feed import step_of
from .setup import final_state, prepare, restore
from .steps import Outcome, ScenarioSessions

OnStep = Callable[[StepRecord], None]
ELECTION_MS = 500  # electionTimeoutMillis of a set started for a scenario of several members


class TooFewMembers(ValueError):
    """The deployment has fewer replica set members than the scenario needs."""


async def check_members(client: Any, scenario: Scenario) -> None:
    """Refuse, before anything changes, a scenario that needs more members than the
    deployment's `hello` lists (`hosts`: its data-bearing members)."""
    if scenario.members <= 1:
        return
    hello = await client.admin.command("hello")
    have = len(hello.get("hosts") or []) or 1
    if have < scenario.members:
        raise TooFewMembers(
            f"{scenario.name} needs a replica set of {scenario.members} members; this "
            f"deployment has {have}. Run it without a URI (a {scenario.members}-member "
            f"sandbox is started for it), or start the workbench with --members "
            f"{scenario.members} (or press F2: Sandbox, 3 members)."
        )


def _record(step: Step) -> StepRecord:
    return StepRecord(
        index=step.index,
        session=step.session or "",
        action=step.label(),
        expected=step.expect.describe(),
        note=step.note,
    )


def _fill(rec: StepRecord, step: Step, out: Outcome) -> None:
    rec.outcome = out.summary
    rec.ms = out.ms
    rec.result = normalize(out.result)
    if out.error is not None:
        e = out.error
        rec.error = {"code": e.code, "codeName": e.code_name, "labels": list(e.labels)}
    rec.reason = judge(step, out.error, out.result, blocked=rec.blocked, overlapped=False)
    rec.match = not rec.reason


class ScenarioRunner:
    def __init__(
        self,
        scenario: Scenario,
        sessions: ScenarioSessions,
        timeout: float,
        history: History | None = None,
    ) -> None:
        self.scenario = scenario
        self.history = history
        self.schedule = Schedule(scenario)
        self.sessions = sessions
        self.timeout = timeout
        self.records: dict[int, StepRecord] = {}
        self.waiting: dict[int, asyncio.Task[Outcome]] = {}  # blocked steps, by index

    async def run_steps(self, on_step: OnStep | None = None) -> list[StepRecord]:
        for step in self.scenario.steps:
            for index in self.schedule.released_by(step.index, self.waiting):
                self.records[index].blocked = not self.waiting[index].done()
            rec = self.records[step.index] = _record(step)
            if step.expect.blocks_until is not None:
                task = asyncio.create_task(self.sessions.run(step))
                await asyncio.wait({task}, timeout=SETTLE_S)
                self.waiting[step.index] = task
                continue
            try:
                out = await asyncio.wait_for(self.sessions.run(step), self.timeout)
            except TimeoutError:
                rec.outcome = f"still running after {self.timeout:g}s"
                rec.reason = "it blocked; the scenario expects it to finish"
            else:
                _fill(rec, step, out)
                self._remember(step, rec, out)
            if on_step:
                on_step(rec)
            for index in self.schedule.released_by(step.index, self.waiting):
                await self._resolve(index, on_step)
        for index in list(self.waiting):  # pragma: no cover - the loader forbids this
            await self._resolve(index, on_step)
        return [self.records[s.index] for s in self.scenario.steps]

    def _remember(self, step: Step, rec: StepRecord, out: Outcome) -> None:
        """The step in the run's history (what its reply read and wrote)."""
        if self.history is None:
            return
        in_txn, number = self.sessions.ran.get(step.index, (False, None))
        until = step.expect.blocks_until
        waited_for = ""
        if rec.blocked and until is not None:
            waited_for = next(
                (s.session or "" for s in self.scenario.steps if s.index == until), ""
            )
        self.history.record(
            step_of(
                step.session or "",
                str(step.action),
                step.spec,
                out,
                what=step.label(),
                in_txn=in_txn,
                number=number,
                waited=rec.blocked,
                waited_for=waited_for,
            )
        )

    async def _resolve(self, index: int, on_step: OnStep | None) -> None:
        task = self.waiting.pop(index)
        step = next(s for s in self.scenario.steps if s.index == index)
        rec = self.records[index]
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if not done:
            task.cancel()
            rec.outcome = f"still blocked {self.timeout:g}s after step {step.expect.blocks_until}"
            rec.reason = "it never finished"
        else:
            _fill(rec, step, task.result())
            self._remember(step, rec, task.result())
        if on_step:
            on_step(rec)


async def run_on(
    client: Any,
    scenario: Scenario,
    server: str,
    timeout: float,
    on_step: OnStep | None,
    *,
    own: bool,
    allow_drop: bool = False,
    uri: str = "",
    history: History | None = None,
) -> RunRecord:
    """Run `scenario` (already placed in its database) on `client`'s deployment (at `uri`,
    where sessions with client options of their own get their clients)."""
    await check_members(client, scenario)
    record = RunRecord(scenario.name, scenario.title, scenario.verdict, server=server)
    record.database = scenario.setup.database
    prepared = await prepare(client, scenario, own=own, allow_drop=allow_drop)
    record.sandbox = prepared.sandbox
    record.notes.extend(prepared.notes)
    sessions = ScenarioSessions(client, scenario, uri)
    try:
        runner = ScenarioRunner(scenario, sessions, timeout, history)
        record.steps = await runner.run_steps(on_step)
    finally:
        await sessions.close()
        await restore(client, scenario, prepared)
    record.final = await final_state(client, scenario)
    if history is not None:
        from ..model.anomalies import analyse

        record.anomalies = [f.one_line() for f in analyse(history)]
    return record


async def run_scenario(
    scenario: Scenario,
    uri: str | None = None,
    *,
    in_place: bool = False,
    allow_drop: bool = False,
    timeout: float = STUCK_S,
    on_step: OnStep | None = None,
    history: History | None = None,
) -> RunRecord:
    """Run a scenario against `uri`, or against a sandbox started for the run.

    On a deployment reached by `uri` the scenario runs in a database of its own
    (setup.run_database) unless `in_place`; there a collection holding data is dropped only
    with `allow_drop` (which implies `in_place`), else setup.DropRefused is raised.
    With `history`, every step's reads and writes are recorded there and the record's
    `anomalies` name the cycles they form (model.anomalies).
    """
    if uri is None:
        from mongotx_sandbox import SandboxServer

        # A scenario of several members gets a set of that many (scenario `members`), with
        # a short election timeout: a killed primary's successor is elected within a step.
        sandbox = SandboxServer(members=scenario.members, election_timeout_ms=ELECTION_MS)
        async with sandbox as sandbox_uri:
            client = make_client(sandbox_uri)
            try:
                return await run_on(
                    client,
                    scenario,
                    SANDBOX_NAME,
                    timeout,
                    on_step,
                    own=True,
                    uri=sandbox_uri,
                    history=history,
                )
            finally:
                await client.close()
    database = run_database(scenario.setup.database, own=False, in_place=in_place or allow_drop)
    scenario = placed(scenario, database)
    client = make_client(uri)
    try:
        return await run_on(
            client,
            scenario,
            mask_uri(uri),
            timeout,
            on_step,
            own=False,
            allow_drop=allow_drop,
            uri=uri,
            history=history,
        )
    finally:
        await client.close()

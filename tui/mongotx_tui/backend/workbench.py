"""The workbench controller: connection, lanes, committed state, timeline. No textual.

The UI calls these coroutines from async workers and re-renders the part `notify` says
changed (model.events.Changed, with a lane id for LANE and LANES).

Every step that runs is also written to `journal` (start order, outcome), which saving the
workbench as a scenario and the autosaved drafts read.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from ..model.error_info import ErrorInfo
from ..model.events import Changed, Notify
from ..model.journal import Journal, Played
from ..model.lanes import (
    LANE_COLOURS,
    LANE_NAMES,
    MAX_LANES,
    Lane,
    LaneOptions,
    OpStatus,
    QueuedOp,
    TxnOptions,
    TxnState,
    view_docs,
)
from ..model.literals import format_short, format_value
from ..model.naming import (
    OUTSIDE_SUFFIX,
    collection_problem,
    database_problem,
    lane_name_problem,
)
from ..model.ops import OpKind, OpSpec, StepAction
from ..model.timeline import EventKind, Timeline
from . import step_record
from .anomaly_watch import AnomalyWatch
from .connection import (
    BadURI,
    Deployment,
    EmbeddedSandbox,
    client_options,
    make_client,
    probe,
    read_lifetime_limit,
    scrub,
    seed_if_empty,
)
from .lane_options import LaneClients, after_step, changes, unsent_concerns
from .lane_runner import LaneBusy, LaneRunner, server_has_transaction
from .operations import error_info
from .steps import (
    BECOMES_LAST_ERROR,
    BUSY_WITH,
    REFRESH_COMMITTED,
    Outcome,
    Row,
    RowText,
    execute_step,
)
from .tasks import Tasks
from .watchers import (
    CHANGE_STREAM,
    PAGE_SIZE,
    Page,
    count_documents,
    describe_change,
    load_page,
    watch_changes,
)

if TYPE_CHECKING:
    from ..model.members import MembersView
    from ..model.rollbacks import RollbackMarks
    from ..scenario.definition import Step
    from .faults import FaultInjector
    from .members import Members
    from .monitor import CommandMonitor


# Commands that take a collection's or database's exclusive lock (locks wait for the open
# transactions that used it: manual, "Pending DDL Operations and Transactions").
DDL_COMMANDS = frozenset(
    {"drop", "dropDatabase", "createIndexes", "dropIndexes", "collMod", "renameCollection"}
)


class Workbench:
    def __init__(
        self,
        uri: str | None = None,
        db: str = "bank",
        collection: str = "accounts",
        clock: Callable[[], float] = time.time,
        perf: Callable[[], float] = time.perf_counter,
        sandbox_port: int = 0,
        notify: Notify | None = None,
        members: int = 1,
        own_uri: str | None = None,
    ) -> None:
        self.requested_uri = uri
        # A deployment this process started and stops (`--sharded`'s cluster): as much ours
        # as the embedded sandbox, for what a scenario may drop and where it runs.
        self.own_uri = own_uri
        self.uri = uri or ""
        self.db = db
        self.collection = collection
        self.clock = clock
        self.perf = perf
        self.sandbox_port = sandbox_port
        self.sandbox_members = members  # the embedded sandbox's members (--members 3)
        # The set's members as the server last described them (the members panel), and the
        # member whose own data the committed panel reads (None: through the client).
        self.members_view: MembersView | None = None
        self.view_member: str | None = None
        self.notify: Notify = notify or (lambda kind, lane_id: None)
        self.client: Any = None
        self.monitor: CommandMonitor | None = None  # made with the first client
        self.sandbox: EmbeddedSandbox | None = None
        self.deployment: Deployment | None = None
        self.lanes: list[Lane] = []
        self.runners: dict[int, LaneRunner] = {}
        self.timeline = Timeline()
        self.page = Page()
        self.watch_mode = ""
        self._lane_ids = 0
        self._changes_pending = False
        self._refresher: asyncio.Task[None] | None = None
        self._counter: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[Any] | None = None  # the task running watch()
        self.tasks = Tasks()  # every background task of this workbench: close() ends them
        self.lane_clients = LaneClients()  # lanes' own clients (retryWrites off)
        # lane id → (txn number, the task watching that transaction's lifetime limit)
        self._lifetimes: dict[int, tuple[int | None, asyncio.Task[None]]] = {}
        self.lsids_seen: dict[str, tuple[int, str]] = {}  # lsid a lane had → (its id, name)
        self.journal = Journal()
        # The committed page when the journal began: a saved scenario's setup documents.
        self.initial: tuple[str, str, list[dict[str, Any]], bool] | None = None
        self.play: Any = None  # a loaded scenario (backend.play.ScenarioPlay)
        self.anomalies = AnomalyWatch()  # the history, and the anomalies named in it
        self.add_lane()  # two lanes from the start, connected or not
        self.add_lane()

    # -- connection -----------------------------------------------------------------------
    @property
    def is_sandbox(self) -> bool:
        return self.requested_uri is None

    @property
    def owns_deployment(self) -> bool:
        """The embedded sandbox, or a sandbox this process started (the sharded cluster):
        a scenario runs in the database it names and may drop what it sets up."""
        return self.is_sandbox or (self.own_uri is not None and self.requested_uri == self.own_uri)

    def scrub(self, text: str) -> str:
        return scrub(text, self.uri) if self.uri else text

    def _listeners(self) -> list[Any]:
        """The command monitor, listening on every client the workbench makes (one log
        across deployments)."""
        if self.monitor is None:
            from .monitor import CommandMonitor  # imports pymongo: only once connecting

            self.monitor = CommandMonitor(
                self._lane_of_lsid,
                lambda: self.notify(Changed.MONITOR, None),
                self.clock,
                self.perf,
            )
        return [self.monitor]

    def _lane_of_lsid(self, lsid: str) -> tuple[int, str] | None:
        """The lane whose open session has this lsid (an ended lane's lsid goes back to the
        driver's pool and may carry the workbench's own reads next)."""
        for lane_id, runner in self.runners.items():
            if runner.session is not None and runner.lane.lsid == lsid:
                return lane_id, runner.lane.name
        return None

    def _monitor_tag(self, lane: Lane | None, label: str, workbench: bool = False) -> Any:
        """Attribute the commands `lane`'s session sends meanwhile to `label`."""
        if self.monitor is None or lane is None:
            return contextlib.nullcontext(None)
        return self.monitor.tagging(lane.id, label, workbench)

    @functools.cached_property
    def faults(self) -> FaultInjector:
        """Fault injection (made on first use: the workbench starts without it)."""
        from .faults import FaultInjector

        return FaultInjector(self)

    async def connect(self) -> Deployment:
        """Start the sandbox if needed, connect, probe; raises BadURI or pymongo errors."""
        if self.client is None:
            target = await self._sandbox_uri() if self.is_sandbox else self.uri
            client = make_client(target, self._listeners())
            deployment = await self._probe(client, target, self.is_sandbox)
            self.uri, self.client = target, client
        else:
            self.deployment = await probe(self.client, self.uri, self.is_sandbox)
            deployment = self.deployment
        await self._attach(deployment)
        return deployment

    async def _sandbox_uri(self) -> str:
        """The embedded sandbox's URI, started the first time. It then runs until close():
        switching away and back finds its documents as they were."""
        if self.sandbox is not None and self.sandbox.members != self.sandbox_members:
            # Another number of members (the connect dialog's "3 members"): a new sandbox;
            # the old one's sessions end with it, as a switch ends them anyway.
            old, self.sandbox = self.sandbox, None
            self.members_view, self.view_member = None, None
            await old.stop()
        if self.sandbox is None:
            sandbox = EmbeddedSandbox(self.sandbox_port, self.sandbox_members)
            await sandbox.start()  # raises when it can't listen: try again next time
            self.sandbox = sandbox
        return self.sandbox.uri

    @staticmethod
    async def _probe(client: Any, uri: str, sandbox: bool) -> Deployment:
        """probe(), closing the client when the deployment does not answer."""
        try:
            return await probe(client, uri, sandbox)
        except BaseException:
            try:
                await client.close()
            except Exception:
                pass
            raise

    async def _attach(self, deployment: Deployment) -> None:
        """The connected client's deployment is now the workbench's."""
        self.deployment = deployment
        if self.is_sandbox:
            await seed_if_empty(self.client, self.db, self.collection)
        for runner in self.runners.values():
            runner.client = self._lane_client(runner.lane)
            runner.session = None
        self.timeline.add(
            self.clock(), "", EventKind.INFO, "connect", self.deployment.describe(), True
        )
        self.notify(Changed.CONNECTION, None)
        self.notify(Changed.TIMELINE, None)

    async def _close_client(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            try:
                await client.close()
            except Exception:
                pass

    async def close(self, leave_open: bool = False) -> None:
        """End every session and disconnect; stop the sandbox. With `leave_open`, sessions
        in a transaction are not ended: the server keeps their transactions until its
        transactionLifetimeLimitSeconds (ending a session aborts its transaction)."""
        await self._leave(leave_open)
        if self.sandbox is not None:
            await self.sandbox.stop()
            self.sandbox = None

    async def _leave(self, leave_open: bool = False) -> None:
        """Put the server back after a scenario, end the sessions, close the client."""
        await self.tasks.cancel_all()  # lifetime watches, refreshes, counts, markers
        self._lifetimes.clear()
        if "faults" in self.__dict__:  # a fail point set from the dialog: turned off
            await self.faults.close()
        if self.play is not None and self.client is not None:
            try:
                await self.play.close()
            except Exception:
                pass
        for runner in self.runners.values():
            if leave_open and runner.lane.txn_live:
                continue
            if runner.session is not None and not runner.lock.locked():
                try:
                    await runner.session.end_session()
                except Exception:
                    pass
                runner.session = None
        await self.lane_clients.close_all()
        if "members" in self.__dict__:  # the members panel's direct clients
            await self.members.close()
        await self._close_client()

    def open_transactions(self) -> list[Lane]:
        """The lanes whose transaction the server holds open, as far as its replies tell (not
        one it aborted or expired: quitting or switching loses nothing there)."""
        return [lane for lane in self.lanes if lane.txn_live]

    async def switch(self, uri: str | None) -> Deployment:
        """Move the workbench to another deployment (None = the sandbox): lanes and queues
        are kept, open transactions end with their sessions.

        The new deployment is reached first: one that can't be reached (a mistyped URI)
        raises and changes nothing, the workbench stays connected where it was."""
        if uri is not None:
            client_options(uri)  # raises BadURI before anything changes
        target = uri if uri is not None else await self._sandbox_uri()
        client = make_client(target, self._listeners())
        deployment = await self._probe(client, target, uri is None)
        await self._leave()
        self.requested_uri = uri
        self.uri, self.client = target, client
        for lane in self.lanes:
            lane.lsid = ""
            lane.lsid_note = ""
            lane.txn_number = None
            lane.session_ended_by(
                None, "its session ended with the switch of deployment, which aborts it"
            )
        self.lsids_seen.clear()
        await self._attach(deployment)
        return deployment

    @property
    def pushes_changes(self) -> bool:
        """A change stream is watching: committed writes arrive without re-reading."""
        return self.watch_mode == CHANGE_STREAM

    def has_own_work(self) -> bool:
        """Steps run or operations queued by hand: what loading a scenario would replace.
        A loaded scenario's own steps are not counted (loading it again brings them back)."""
        if self.play is None:
            return self.has_steps(pending=True)
        return any(
            item.spec is not None and item.step is None
            for lane in self.lanes
            for item in lane.queue
        )

    def has_steps(self, pending: bool = False) -> bool:
        """Anything run yet (or, with `pending`, queued) that a saved scenario would hold."""
        if self.journal.entries:
            return True
        return pending and any(
            item.spec is not None and item.step is None and item.status is OpStatus.PENDING
            for lane in self.lanes
            for item in lane.queue
        )

    # -- lanes ----------------------------------------------------------------------------
    def add_lane(self) -> Lane | None:
        if len(self.lanes) >= MAX_LANES:
            return None
        used = {lane.name for lane in self.lanes}
        name = next(n for n in LANE_NAMES if n not in used)
        self._lane_ids += 1
        lane = Lane(self._lane_ids, name, LANE_COLOURS[(self._lane_ids - 1) % len(LANE_COLOURS)])
        self.lanes.append(lane)
        if self.client is not None:
            self.runners[lane.id] = self._runner(lane)
        self.notify(Changed.LANES, lane.id)
        return lane

    async def replace_lanes(
        self, sessions: list[tuple[str, TxnOptions, LaneOptions]]
    ) -> list[Lane]:
        """End every lane's session and put one new lane per (name, transaction options,
        session options) in their place."""
        for runner in self.runners.values():
            runner.guard("loading a scenario")
        for runner in list(self.runners.values()):
            if runner.session is not None:
                try:
                    await runner.end_session()
                except Exception:
                    pass
        self.runners.clear()
        await self.lane_clients.close_all()
        self.lanes = []
        for name, options, lane_options in sessions:
            self._lane_ids += 1
            colour = LANE_COLOURS[(len(self.lanes)) % len(LANE_COLOURS)]
            lane = Lane(self._lane_ids, name, colour, txn_options=options, options=lane_options)
            self.lanes.append(lane)
            if self.client is not None:
                self.runners[lane.id] = self._runner(lane)
        self.notify(Changed.LANES, None)
        return self.lanes

    async def plan_scenario(self, scenario: Any, in_place: bool = False) -> tuple[Any, list[Any]]:
        """Where the scenario would run here, and what its setup would destroy there.

        Returns the scenario placed in its database (on a deployment other than the
        embedded sandbox, one of its own unless `in_place`) and the setup collections there
        that hold data (backend.setup.Occupied): loading it drops those only with consent.
        Raises ValueError (clear words) for a database name too long to prefix.
        """
        from ..scenario.placement import placed, protected, run_database
        from .headless import check_members
        from .setup import occupied

        await check_members(self.client, scenario)  # TooFewMembers: a ValueError, in words

        own = self.owns_deployment
        database = run_database(scenario.setup.database, own=own, in_place=in_place)
        scenario = placed(scenario, database)
        if not protected(database, own):
            return scenario, []
        names = [c.name for c in scenario.setup.collections]
        return scenario, await occupied(self.client, database, names)

    async def load_scenario(self, scenario: Any, allow_drop: Collection[str] = ()) -> Any:
        """Set the scenario (placed by plan_scenario) up on this deployment and put its
        sessions and steps in lanes. On a deployment other than the embedded sandbox a
        collection holding data is dropped only if `allow_drop` names it; else
        backend.setup.DropRefused is raised before anything changes."""
        from .play import ScenarioPlay
        from .setup import check_consent

        # refused before the loaded scenario is closed: a refusal leaves everything as it was
        await check_consent(self.client, scenario, own=self.owns_deployment, allow_drop=allow_drop)
        if self.play is not None:
            old, self.play = self.play, None
            await old.close()
        play = ScenarioPlay(self, scenario, allow_drop)
        await play.load()
        # Set up: the scenario's namespace is watched, and its journal starts empty (saving
        # it writes the scenario's own setup, not a page of documents).
        self._set_namespace(scenario.setup.database, scenario.default_collection)
        self.journal.clear()
        self.initial = None
        # The committed panel shows the scenario's documents before the scenario is
        # announced: the page of the collection watched before must not stand next to the
        # new lanes (a stale page, and the snapshot race the soak found). The caller starts
        # a new watcher; until it reports, there is no watch mode.
        await self.refresh_committed(0, count_now=True)
        self.play = play
        await self.read_lifetime_limit()  # its setup may set transactionLifetimeLimitSeconds
        self.notify(Changed.SCENARIO, None)
        return play

    # -- journal ------------------------------------------------------------------------
    def journal_start(self, session: str, action: str, **fields: Any) -> Played:
        if not self.journal.entries and self.play is None:
            complete = self.page.number == 0 and len(self.page.docs) < PAGE_SIZE
            docs = [dict(d) for d in self.page.docs]
            self.initial = (self.db, self.collection, docs, complete)
        return self.journal.start(session, action, **fields)

    def _lane_client(self, lane: Lane) -> Any:
        """The client the lane's session runs on: the workbench's, or its own."""
        return self.lane_clients.client_for(lane, self.uri, self._listeners, self.client)

    def _runner(self, lane: Lane) -> LaneRunner:
        client = self._lane_client(lane)
        runner = LaneRunner(client, lane, lambda: self.db, self.clock, self.perf, self.scrub)
        runner.lsids_seen = self.lsids_seen
        return runner

    # -- the transaction lifetime limit ----------------------------------------------------
    @property
    def lifetime_limit_s(self) -> float | None:
        """The deployment's transactionLifetimeLimitSeconds (None: it could not be read)."""
        return self.deployment.lifetime_limit_s if self.deployment is not None else None

    async def read_lifetime_limit(self) -> float | None:
        """Read the limit again (a scenario or a setParameter may have changed it)."""
        if self.deployment is None or self.client is None:
            return None
        self.deployment.lifetime_limit_s = await read_lifetime_limit(self.client)
        for lane in self.lanes:
            self.notify(Changed.LANE, lane.id)
        return self.deployment.lifetime_limit_s

    def watch_lifetime(self, lane: Lane) -> None:
        """Watch the lane's open transaction reach the lifetime limit (one task a lane)."""
        watched = self._lifetimes.get(lane.id)
        if watched is not None and not watched[1].done():
            if watched[0] == lane.txn_number:
                return
            watched[1].cancel()  # an older transaction's: that one has ended
        task = self.tasks.spawn(self._lifetime(lane.id, lane.txn_number))
        self._lifetimes[lane.id] = (lane.txn_number, task)

    async def _lifetime(self, lane_id: int, txn_number: int | None) -> None:
        """At the deadline, ask the server whether it has aborted the transaction
        ($currentOp, without touching it); until it has, say it is past the limit."""
        while True:
            try:
                lane = self.lane(lane_id)
            except KeyError:
                return
            live = lane.txn_state is TxnState.IN_PROGRESS and lane.txn_number == txn_number
            limit = self.lifetime_limit_s
            if not live or lane.txn_opened_at is None or limit is None:
                return
            wait = lane.txn_opened_at + limit - self.clock()
            if wait > 0:
                await asyncio.sleep(min(wait, 1.0))  # the limit may be read again meanwhile
                continue
            runner = self.runners.get(lane_id)
            if runner is None or runner.session is None or txn_number is None:
                return
            lsid = runner.session.session_id["id"]
            has = await server_has_transaction(self.client, lsid, txn_number)
            if lane.txn_state is not TxnState.IN_PROGRESS or lane.txn_number != txn_number:
                return  # a reply moved it meanwhile (a commit, an abort, a 251)
            if has is None:
                lane.lifetime_note = "past the lifetime limit: the server will abort it"
                self.notify(Changed.LANE, lane_id)
                return
            if not has:
                lane.to_expired(self.clock(), limit)
                self._log(
                    lane,
                    EventKind.TXN,
                    f"txn {txn_number} expired",
                    f"expired — aborted by the server (transactionLifetimeLimitSeconds "
                    f"{limit:g} s)",
                    False,
                    None,
                )
                self.notify(Changed.LANE, lane_id)
                return
            lane.lifetime_note = (
                "past the lifetime limit: the server still has it (its reaper runs every "
                "half limit, at least once a second)"
            )
            self.notify(Changed.LANE, lane_id)
            await asyncio.sleep(0.5)

    def runner(self, lane_id: int) -> LaneRunner:
        if lane_id not in self.runners:
            self.runners[lane_id] = self._runner(self.lane(lane_id))
        return self.runners[lane_id]

    def lane(self, lane_id: int) -> Lane:
        for lane in self.lanes:
            if lane.id == lane_id:
                return lane
        raise KeyError(lane_id)

    async def remove_lane(self, lane_id: int) -> None:
        runner = self.runners.get(lane_id)
        if runner is not None and runner.lock.locked():
            raise LaneBusy(f"Lane {runner.lane.name} is busy; wait or commit the other lane")
        lane = self.lane(lane_id)
        was_open, txn = lane.txn_live, lane.txn_number
        if runner is not None and runner.session is not None:
            await runner.end_session()
        self.runners.pop(lane_id, None)
        await self.lane_clients.close(lane_id)
        watched = self._lifetimes.pop(lane_id, None)
        if watched is not None:
            watched[1].cancel()
        self.lanes = [other for other in self.lanes if other.id != lane_id]
        dropped = sum(item.status is OpStatus.PENDING for item in lane.queue)
        outcome = [f"{dropped} queued operation{'s' if dropped != 1 else ''} dropped"]
        if was_open:  # endSessions aborts the session's open transaction
            outcome.insert(0, f"session ended: its open transaction (txn {txn}) aborted")
        self._log(lane, EventKind.INFO, f"remove lane {lane.name}", "; ".join(outcome), True, None)
        self.notify(Changed.LANES, None)

    # -- a lane's queue: written here only ------------------------------------------------
    def enqueue(
        self, lane_id: int, spec: OpSpec | None, index: int | None = None, *, step: Any = None
    ) -> QueuedOp:
        """Queue `spec` (at `index`, else last); a loaded scenario queues its `step`s."""
        lane = self.lane(lane_id)
        item = QueuedOp(spec, step=step)
        if index is None:
            lane.queue.append(item)
        else:
            lane.queue.insert(index, item)
        self.notify(Changed.LANE, lane_id)
        return item

    def _queued(self, lane_id: int, index: int, what: str) -> tuple[Lane, QueuedOp]:
        """The item at `index`, if `what` may be done to it; else ValueError saying why."""
        lane = self.lane(lane_id)
        if not 0 <= index < len(lane.queue):
            raise ValueError(f"Lane {lane.name} has no item {index + 1}")
        item = lane.queue[index]
        if item.step is not None and what != "duplicate":
            raise ValueError(
                f"Step {item.step.index} belongs to the scenario and stays as it is; "
                "duplicate it (d) to change a copy"
            )
        if item.spec is None:
            raise ValueError("Only operations can be duplicated")
        if item.status is OpStatus.RUNNING and what in ("edit", "delete"):
            raise ValueError(f"It is running; {what} it when it ends")
        return lane, item

    def check_edit(self, lane_id: int, index: int) -> OpSpec:
        """The operation to open in the editor (ValueError when it can't be edited)."""
        spec = self._queued(lane_id, index, "edit")[1].spec
        assert spec is not None
        return spec

    def edit_op(self, lane_id: int, index: int, spec: OpSpec) -> None:
        """Replace the item with a new one running `spec` (its outcome starts afresh)."""
        lane, _ = self._queued(lane_id, index, "edit")
        lane.queue[index] = QueuedOp(spec)
        self.notify(Changed.LANE, lane_id)

    def duplicate_op(self, lane_id: int, index: int) -> QueuedOp:
        """A copy after it (after the queue's end for a scenario's step)."""
        lane, item = self._queued(lane_id, index, "duplicate")
        assert item.spec is not None
        at = len(lane.queue) if item.step is not None else index + 1
        return self.enqueue(lane_id, item.spec.copy(), at)

    def delete_op(self, lane_id: int, index: int) -> None:
        lane, _ = self._queued(lane_id, index, "delete")
        del lane.queue[index]
        self.notify(Changed.LANE, lane_id)

    def move_op(self, lane_id: int, index: int, delta: int) -> int | None:
        """Swap the item with its neighbour `delta` away; its new index (None: no move)."""
        lane, _ = self._queued(lane_id, index, "move")
        j = index + delta
        if not 0 <= j < len(lane.queue):
            return None
        lane.queue[index], lane.queue[j] = lane.queue[j], lane.queue[index]
        self.notify(Changed.LANE, lane_id)
        return j

    def rename_lane(self, lane_id: int, name: str, colour: str) -> Lane:
        """Give a lane another name and colour; raises ValueError saying what is wrong.

        The journal follows the new name, so saved scenarios and drafts use it. A loaded
        scenario's lanes keep the names of its sessions (its steps and banner use them).
        """
        lane = self.lane(lane_id)
        name = name.strip()
        if colour not in LANE_COLOURS:
            raise ValueError(f"unknown colour {colour!r}: one of {', '.join(LANE_COLOURS)}")
        if name != lane.name:
            if self.play is not None:
                raise ValueError(
                    f"the loaded scenario names this lane's session {lane.name}; "
                    "only its colour can change"
                )
            others = [other.name for other in self.lanes if other.id != lane_id]
            problem = lane_name_problem(name, others)
            if problem is not None:
                raise ValueError(problem)
        old_name, old_colour = lane.name, lane.colour
        if (name, colour) == (old_name, old_colour):
            return lane
        lane.name, lane.colour = name, colour
        if name != old_name:
            self.journal.rename(old_name, name, OUTSIDE_SUFFIX)
            what, outcome = "lane renamed", f"{old_name} → {name}, {colour}"
        else:
            what, outcome = "lane recoloured", f"{old_colour} → {colour}"
        self.timeline.add(self.clock(), name, EventKind.INFO, what, outcome)
        self.notify(Changed.LANES, lane_id)
        self.notify(Changed.LANE, lane_id)
        self.notify(Changed.TIMELINE, None)
        return lane

    async def set_lane_options(
        self, lane_id: int, options: LaneOptions, txn_options: TxnOptions
    ) -> Lane:
        """Give a lane other session options and default transaction options.

        Session options are fixed when a session starts, so a change ends the lane's
        session (the next step starts one with the new options) and, for retryWrites, moves
        the lane to a client of its own. Raises ValueError while its transaction is open
        (ending the session would abort it) and LaneBusy while it runs something."""
        lane = self.lane(lane_id)
        runner = self.runners.get(lane_id)
        if runner is not None:
            runner.guard("changing its options")
        old, old_txn = lane.options, lane.txn_options
        if options != old:
            if lane.in_txn:
                raise ValueError(
                    f"lane {lane.name}'s transaction is open: commit or abort it first "
                    "(session options apply to a new session, and ending this one aborts it)"
                )
            if runner is not None and runner.session is not None:
                async with runner.lock:
                    try:
                        await runner.session.end_session()
                    except Exception:
                        pass
                    runner.session = None
            await self.lane_clients.close(lane_id)
            lane.options = options
            lane.session_started()
            lane.lsid = ""
            if runner is not None:
                runner.client = self._lane_client(lane)
        lane.txn_options = txn_options
        what = changes(old, options, old_txn, txn_options)
        self._log(lane, EventKind.INFO, "lane options", what, True, None)
        self.notify(Changed.LANE, lane_id)
        return lane

    # -- actions ----------------------------------------------------------------------------
    def _log(
        self, lane: Lane, kind: EventKind, what: str, outcome: str, ok: bool, ms: float | None
    ):
        self.timeline.add(self.clock(), lane.name, kind, what, outcome, ok, ms)
        self.notify(Changed.TIMELINE, None)

    def _needs_transactions(self) -> None:
        if self.deployment is not None and not self.deployment.transactions_supported:
            raise LaneBusy(
                "Transactions need a replica set or a sharded cluster; this server is "
                "standalone. Open the sandbox (F2) to try them."
            )

    # -- the one step pipeline ------------------------------------------------------------
    async def run_step(
        self,
        step: Step,
        lane: Lane | None,
        row: Row,
        *,
        item: QueuedOp | None = None,
        outside: bool = False,
        guard: bool = True,
    ) -> Outcome:
        """Run a step the one way every step runs, a key on a lane or a scenario's step.

        Journaled (start order and outcome), run on the lane's session (backend.steps), the
        lane's queue item following it, shown as the timeline row `row` makes of its
        outcome; then what the reply starts (the lifetime watch of an open transaction, a
        new lifetime limit) and the reads that follow it (the lane's view, the committed
        page). With `guard`, a busy lane raises LaneBusy before anything happens; without,
        that becomes the step's error (a scenario's step keeps its place in the order).
        """
        runner = self.runner(lane.id) if lane is not None else None
        if guard and runner is not None:
            runner.guard(BUSY_WITH.get(step.action, "the next operation"))
        name = step.session or ""
        if lane is not None:
            name = lane.name + (OUTSIDE_SUFFIX if outside else "")
        entry = self.journal_start(
            name,
            step.action,
            spec=step.spec.copy() if step.spec else None,
            txn=step.txn,
            ops=[s.copy() for s in step.ops],
            seconds=step.seconds,
            failpoint=dict(step.failpoint),
            note=step.note,
        )
        entry.outside = outside
        detail = step_record.begin(step, lane, item, self.page.docs)  # the timeline's details
        marker = None
        if item is not None and lane is not None:
            if item.spec is None:  # an operation's item is the LaneRunner's to follow
                item.begin(self.clock(), lane.in_txn)
                lane.busy = step.action
            marker = self.tasks.spawn(self.mark_waiting(lane, item))
        if lane is not None:
            self.notify(Changed.LANE, lane.id)
        out: Outcome | None = None
        label = item.label(40) if item is not None and item.spec is not None else step.action
        several = self.deployment is not None and self.deployment.members > 1
        listed: list[dict[str, Any]] = []  # rolled-back writes a reply of the step lists
        try:
            with self._monitor_tag(lane, label) as tag:
                out = await execute_step(
                    step,
                    runner,
                    self.client,
                    self.db,
                    item=item if step.spec is not None else None,
                    outside=outside,
                    perf=self.perf,
                    scrub=self.scrub,
                )
                self._note_retries(tag, out, item)
                self._name_conflict(lane, item, out)
                if lane is not None:
                    records = (
                        []
                        if tag is None or self.monitor is None
                        else self.monitor.log.of_step(tag.step_id)
                    )
                    step_record.finish(detail, out, records)
                    after_step(lane, runner, records)
                    if several and tag is not None:
                        listed = self._note_for_rollback(tag.step_id, lane, item, records)
                    if item is not None and (answered := self.answered_by(records)):
                        out.summary += f" · {answered}"
                        item.summary += f" · {answered}"
                    if item is not None and item.in_txn and out.error is None:
                        note = unsent_concerns(item.spec, records)
                        out.summary += note
                        item.summary += note
        finally:
            if marker is not None:
                marker.cancel()
            if item is not None and item.spec is None and lane is not None:
                if lane.busy == step.action:
                    lane.busy = ""
            if out is None:  # cancelled
                self.journal.finish(entry)
        assert out is not None
        self.journal.finish(entry, out.error, out.result)
        if item is not None and item.spec is None:
            item.end(out.error, out.result, out.summary, out.ms)
        if lane is not None and out.error is not None and step.action in BECOMES_LAST_ERROR:
            lane.last_error = out.error
        event = self.timeline.add(
            self.clock(), lane.name if lane else name, *row(out, entry), detail=detail
        )
        for found in self.anomalies.record(step, lane, item, out, event, outside):
            self.timeline.add(self.clock(), *self.anomalies.row(found))
        self.notify(Changed.TIMELINE, None)
        if listed:
            self._show_rolled_back(listed)
        if lane is not None:
            self.notify(Changed.LANE, lane.id)
            self._after(step, lane, item, out)
        committed = step.action in REFRESH_COMMITTED or (
            step.spec is not None and (outside or lane is None or not lane.in_txn)
        )
        # A change stream reports majority-committed changes only: on a set of several
        # members a w:1 write a lagging majority lacks would never show, so read again.
        if committed and (several or not self.pushes_changes):  # else change events re-read
            self.tasks.spawn(self._quietly(self.refresh_committed))
        in_txn = item.in_txn if item is not None else lane is not None and lane.in_txn
        if lane is not None and out.error is None and step.spec is not None and in_txn:
            await self._quietly(lambda: self.refresh_view(lane.id))  # what the transaction sees now
        step_record.after(detail, lane, self.page.docs)
        return out

    def _after(self, step: Step, lane: Lane, item: QueuedOp | None, out: Outcome) -> None:
        """What a reply starts: the lifetime watch of a transaction that is now open, and
        reading the lifetime limit again after a setParameter."""
        if item is not None and item.spec is not None and lane.txn_live and item.in_txn:
            self.watch_lifetime(lane)
        if (
            step.spec is not None
            and out.error is None
            and "setParameter" in step.spec.texts.get("command", "")
        ):
            self.tasks.spawn(self._quietly(self.read_lifetime_limit))

    @staticmethod
    async def _quietly(read: Callable[[], Awaitable[Any]]) -> None:
        """A read that follows a step: a failure shows on the next one, not as an error.
        (Called here, not before: a task cancelled before it starts leaves no coroutine
        unawaited.)"""
        try:
            await read()
        except Exception:
            pass

    # -- the keys on a lane ------------------------------------------------------------------
    def _lane_step(self, lane: Lane, action: str, **fields: Any) -> Step:
        """A key on a lane as a step (the format scenarios are saved in)."""
        from ..scenario.definition import Step  # on first use: the start does without it

        return Step(index=0, line=0, action=action, session=lane.name, **fields)

    async def start_transaction(self, lane_id: int, options: TxnOptions | None = None) -> None:
        self._needs_transactions()
        lane = self.lane(lane_id)

        def row(out: Outcome, _: Played) -> RowText:
            if out.error is not None:
                return EventKind.TXN, "startTransaction", out.summary, False, None
            what = f"startTransaction txn {lane.txn_number}"
            return EventKind.TXN, what, lane.txn_options.describe(), True, None

        step = self._lane_step(lane, StepAction.START_TRANSACTION, txn=options)
        await self.run_step(step, lane, row)

    async def step(
        self, lane_id: int, outside: bool = False, item: QueuedOp | None = None
    ) -> QueuedOp | None:
        """Run the lane's next pending operation (or `item`); None when there is none."""
        lane = self.lane(lane_id)
        item = item or lane.next_pending
        if item is None:
            return None
        if item.spec is None:
            raise LaneBusy(f"Step {item.step.index} of the scenario: n runs it in order")
        if item.spec.errors():
            raise LaneBusy("This operation has invalid fields; edit it first (enter)")
        step = self._lane_step(lane, item.spec.kind.value, spec=item.spec)
        await self.run_step(
            step, lane, self._op_row(lane, item, outside), item=item, outside=outside
        )
        return item

    @staticmethod
    def _op_row(lane: Lane, item: QueuedOp, outside: bool) -> Row:
        """An operation's timeline row: where it ran, and what the reply did to the
        transaction."""

        def row(out: Outcome, _: Played) -> RowText:
            where = "outside txn" if outside or not item.in_txn else f"txn {lane.txn_number}"
            what = f"{item.label(60, collection=False)} ({where})"
            if out.error is None:
                return EventKind.OP, what, item.summary, True, item.duration_ms
            outcome = out.error.one_line()
            if out.error.conflict_lane:  # who, before the labels (a narrow cell cuts them)
                outcome = out.error.headline + f" ↔ {out.error.conflict_lane}"
                outcome += out.error.one_line()[len(out.error.headline) :]
            if out.error.txn_aborted:
                outcome += f" · the server aborted txn {lane.txn_number}"
            elif out.error.txn_aborted is False:
                outcome += f" · txn {lane.txn_number} stays open"
            return EventKind.OP, what, outcome, False, item.duration_ms

        return row

    def _note_retries(self, tag: Any, out: Outcome, item: QueuedOp | None) -> None:
        """Say on the step when the driver sent one of its statements again (the monitor
        saw each attempt): a retried commit or write, or with_transaction's loop."""
        if tag is None or self.monitor is None:
            return
        retries = self.monitor.retries(tag)
        if not retries:
            return
        note = f" · retried by the driver ×{retries}"  # noqa: RUF001 (the sign, not x)
        out.summary += note
        if item is not None and item.spec is not None:  # the LaneRunner ended it already
            item.summary += note

    async def mark_waiting(self, lane: Lane, item: QueuedOp) -> None:
        await asyncio.sleep(0.5)
        item.waiting = True
        item.waiting_for = self.known_blocker(lane, item)
        self.notify(Changed.LANE, lane.id)
        if not item.waiting_for:
            item.waiting_for = await self.reported_blocker(lane)
            self.notify(Changed.LANE, lane.id)

    def known_blocker(self, lane: Lane, item: QueuedOp) -> str:
        """The lane whose open transaction wrote a document this operation writes, when
        the workbench knows it (see _holder)."""
        found = self._holder(lane, item)
        if found is None:
            return ""
        other, _id = found
        return (
            f"lane {other.name}'s open transaction (txn {other.txn_number}) "
            f"wrote _id {format_short(_id)}"
        )

    def _holder(self, lane: Lane, item: QueuedOp) -> tuple[Lane, Any] | None:
        """Another lane whose open transaction wrote a document this operation writes, and
        that document's _id: from that lane's view (its changed documents, compared with
        their committed versions), matched against this operation's filter or _ids."""
        from mongotx_sandbox.engine.match import matches

        spec = item.spec
        if spec is None:
            return None
        try:
            values = spec.values()
        except Exception:
            return None
        filt = values.get("filter")
        inserted: list[Any] = []
        if spec.kind is OpKind.INSERT:
            inserted = [values["document"].get("_id")]
        elif spec.kind is OpKind.INSERT_MANY:
            inserted = [d.get("_id") for d in values["documents"] if isinstance(d, dict)]
        for other in self.lanes:
            if other is lane or not other.txn_live or other.view is None:
                continue
            for doc in view_docs(self.page.docs, other.view, other.view_base):
                if doc.mark == " ":
                    continue
                _id = doc.doc.get("_id")
                hit = any(format_value(i) == format_value(_id) for i in inserted if i is not None)
                if not hit and isinstance(filt, dict) and doc.committed is not None:
                    try:
                        hit = matches(filt, doc.committed)
                    except Exception:
                        hit = False
                if hit:
                    return other, _id
        return None

    def _name_conflict(self, lane: Lane | None, item: QueuedOp | None, out: Outcome) -> None:
        """A WriteConflict (112) says which lane's open transaction holds the document, or
        that none of the workbench's lanes does (the server does not say who)."""
        error = out.error
        if error is None or error.code != 112 or lane is None or item is None:
            return
        found = self._holder(lane, item)
        short = ""
        if found is not None:
            other, _id = found
            short = f"lane {other.name} (txn {other.txn_number})"
            who = (
                f"lane {other.name}'s open transaction (txn {other.txn_number}) wrote "
                f"_id {format_short(_id)}"
            )
        else:
            who = (
                "no open transaction of this workbench's lanes holds it: a write committed "
                "after this transaction's snapshot, or a session outside this workbench"
            )
        holder = found[0].name if found is not None else ""
        out.error = dataclasses.replace(
            error, conflict_with=who, conflict_lane=short, conflict_holder=holder
        )
        lane.amend_error(error, out.error)

    async def reported_blocker(self, lane: Lane) -> str:
        """What the server reports ($currentOp): whether this lane's operation waits for a
        lock, the DDL operations waiting ahead of it, and the open transactions."""
        try:
            cursor = await self.client.admin.aggregate([{"$currentOp": {"idleSessions": True}}])
            ops = await cursor.to_list(None)
        except Exception:
            return "the server has not answered yet"
        names = {lsid: name for lsid, (_, name) in self.lsids_seen.items()}

        def who(op: dict[str, Any]) -> str:
            lsid = (op.get("lsid") or {}).get("id")
            hexid = lsid.hex() if hasattr(lsid, "hex") else str(lsid)
            return f"lane {names[hexid]}" if hexid in names else f"lsid {hexid[:8]}…"

        def lsid_of(op: dict[str, Any]) -> str:
            lsid = (op.get("lsid") or {}).get("id")
            return lsid.hex() if hasattr(lsid, "hex") else ""

        open_txns, ddl, mine = [], [], None
        for op in ops:
            params = (op.get("transaction") or {}).get("parameters") or {}
            if "txnNumber" in params and op.get("lsid") is not None:
                open_txns.append(f"{who(op)} txn {params['txnNumber']}")
            command = op.get("command") or {}
            verb = next(iter(command), "")
            if lane.lsid and lsid_of(op) == lane.lsid and op.get("active"):
                mine = op
            elif op.get("waitingForLock") and verb in DDL_COMMANDS:
                ddl.append(f"{who(op)}'s {verb}")
        parts = []
        if mine is not None and mine.get("waitingForLock"):
            behind = f" behind {', '.join(sorted(ddl))}" if ddl else ""
            parts.append(f"the server reports it waiting for a lock{behind}")
        if open_txns:
            parts.append("open transactions: " + ", ".join(sorted(set(open_txns))))
        elif not parts:
            return "the server reports no open transaction"
        text = "; ".join(parts)
        return text if text.startswith("the server") else f"the server reports {text}"

    async def run_rest(self, lane_id: int) -> None:
        lane = self.lane(lane_id)
        while lane.next_pending is not None:
            item = await self.step(lane_id)
            if item is None or item.error is not None:
                break

    async def commit(self, lane_id: int) -> tuple[str, ErrorInfo | None]:
        return await self._end_txn(lane_id, StepAction.COMMIT)

    async def abort(self, lane_id: int) -> tuple[str, ErrorInfo | None]:
        return await self._end_txn(lane_id, StepAction.ABORT)

    async def _end_txn(self, lane_id: int, action: StepAction) -> tuple[str, ErrorInfo | None]:
        lane = self.lane(lane_id)
        txn = lane.txn_number
        verb = "commitTransaction" if action is StepAction.COMMIT else "abortTransaction"

        def row(out: Outcome, _: Played) -> RowText:
            return EventKind.TXN, f"{verb} txn {txn}", out.summary, out.error is None, out.ms

        out = await self.run_step(self._lane_step(lane, action), lane, row)
        return out.summary, out.error

    async def end_session(self, lane_id: int) -> None:
        lane = self.lane(lane_id)

        def row(out: Outcome, _: Played) -> RowText:
            if out.error is not None:
                return EventKind.TXN, "endSession", out.summary, False, None
            return EventKind.TXN, "endSession", "session returned to the pool", True, None

        await self.run_step(self._lane_step(lane, StepAction.END_SESSION), lane, row)

    # -- documents ------------------------------------------------------------------------
    async def refresh_committed(self, number: int | None = None, count_now: bool = False) -> Page:
        """Re-read the shown page (first, so the panel updates at once), then the count
        (with `count_now`, before returning: one update instead of two)."""
        number = self.page.number if number is None else max(0, number)
        ns = (self.db, self.collection)
        args = (self._committed_client(), self.db, self.collection)
        page = await load_page(*args, number, PAGE_SIZE, self.perf, count=False)
        if not page.docs and number > 0:
            page = await load_page(*args, number - 1, PAGE_SIZE, self.perf, count=False)
        page.shards = await self._shards_of(page)
        if (self.db, self.collection) != ns:
            return self.page  # the watched collection changed meanwhile: this page is stale
        if getattr(self, "_page_ns", None) == ns:
            page.total = self.page.total
        self._page_ns = ns
        if count_now:
            page.total = await count_documents(self._committed_client(), *ns)
        self.page = page
        self.notify(Changed.COMMITTED, None)
        for lane in self.lanes:
            if lane.view is not None:
                self.notify(Changed.LANE, lane.id)
        if not count_now and (self._counter is None or self._counter.done()):
            self._counter = self.tasks.spawn(self._count(ns))
        return page

    async def _shards_of(self, page: Page) -> list[str]:
        """On a sharded cluster, the shard of each document of `page` (issue 15 item 4)."""
        deployment = self.deployment
        if deployment is None or deployment.topology != "sharded cluster" or not page.docs:
            return []
        from .shard_map import shards_of_page

        return await shards_of_page(self._committed_client(), self.db, self.collection, page.docs)

    async def _count(self, ns: tuple[str, str]) -> None:
        await asyncio.sleep(0.05)  # let the page paint first; the count can come later
        total = await count_documents(self._committed_client(), *ns)
        if ns == (self.db, self.collection) and total is not None:
            self.page.total = total
            self.notify(Changed.COMMITTED, None)

    async def refresh_view(self, lane_id: int) -> None:
        runner = self.runner(lane_id)
        ns = (self.db, self.collection)
        with self._monitor_tag(runner.lane, "the workbench reads the lane's view", True):
            view = await runner.read_view(self.collection, self.page.ids, PAGE_SIZE)
        if (self.db, self.collection) != ns:
            return  # read from the collection watched before: a newer read follows
        lane = runner.lane
        if view is not None or not lane.txn_live:
            lane.view = view
        self.notify(Changed.LANE, lane_id)

    async def refresh_views(self) -> None:

        for lane in list(self.lanes):
            if lane.txn_state is TxnState.IN_PROGRESS and not lane.busy:
                await self.refresh_view(lane.id)

    async def _refresh_loop(self) -> None:
        # Coalesce a burst of change events (a commit emits one per write) into few reads.
        while self._changes_pending:
            self._changes_pending = False
            try:
                await self.refresh_committed()
                await self.refresh_views()
            except Exception:
                break

    async def watch(self) -> None:
        """Long-running: push committed changes; run it in a worker of its own."""
        self._watcher = asyncio.current_task()

        async def on_change(change: dict[str, Any]) -> None:
            if change.get("operationType") != "poll":
                self.timeline.add(
                    self.clock(),
                    "server",
                    EventKind.CHANGE,
                    "change event",
                    describe_change(change),
                    True,
                    None,
                )
                self.notify(Changed.TIMELINE, None)
            self._changes_pending = True
            if self._refresher is None or self._refresher.done():
                self._refresher = self.tasks.spawn(self._refresh_loop())

        def on_mode(mode: str) -> None:
            self.watch_mode = mode
            self.notify(Changed.COMMITTED, None)

        try:
            await watch_changes(self.client, self.db, self.collection, on_change, on_mode)
        finally:
            if self._watcher is asyncio.current_task():
                self._watcher = None

    async def stop_watching(self) -> None:
        """Cancel the running watch() and its pending refresh, and wait until they end, so
        no event of the collection watched before lands after a switch."""
        me = asyncio.current_task()
        tasks = [t for t in (self._watcher, self._refresher) if t is not None and t is not me]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._watcher = None
        self._changes_pending = False

    async def list_namespaces(self, limit: int = 500) -> list[tuple[str, str]]:
        """(database, collection) pairs that exist, system ones left out, sorted."""
        out: list[tuple[str, str]] = []
        for db in sorted(await self.client.list_database_names()):
            if db in ("admin", "config", "local"):
                continue
            names = await self.client[db].list_collection_names()
            out.extend((db, c) for c in sorted(names) if not c.startswith("system."))
            if len(out) >= limit:
                break
        return out[:limit]

    def _set_namespace(self, db: str, collection: str) -> None:
        """The watched namespace, written here only (watching another collection, loading
        a scenario): no watch mode until its watcher reports, and nothing of the old
        collection stays on screen."""
        self.db, self.collection = db, collection
        self.watch_mode = ""
        self.page = Page()

    async def watch_collection(self, db: str, collection: str) -> None:
        """Switch the watched namespace, then watch it (long-running, like watch()).

        Stops the current watcher, shows page 0 of the new collection, re-reads the lanes'
        views there and records the switch on the timeline. Operations run in the watched
        database (as with --db); each keeps its own collection. Raises ValueError for a
        bad name before anything changes.
        """
        problem = database_problem(db) or collection_problem(collection, db)
        if problem is None and self.play is not None and db != self.db:
            problem = (
                f"the loaded scenario's steps run in database {self.db}; "
                "watch one of its collections"
            )
        if problem is not None:
            raise ValueError(problem)
        await self.stop_watching()
        old = f"{self.db}.{self.collection}"
        self._set_namespace(db, collection)
        for lane in self.lanes:
            lane.view = None
            lane.view_note = ""
            self.notify(Changed.LANE, lane.id)
        try:
            await self.refresh_committed(0)
            await self.refresh_views()
            ok, outcome = True, f"watching {db}.{collection}"
        except Exception as exc:  # shown on the timeline; watching still falls back to polling
            ok, outcome = False, error_info(exc, self.scrub).one_line()
        what = f"watch {db}.{collection} (was {old})"
        self.timeline.add(self.clock(), "", EventKind.INFO, what, outcome, ok)
        self.notify(Changed.TIMELINE, None)
        self.notify(Changed.COMMITTED, None)
        await self.watch()

    # -- the replica set's members (issue 13 item 5; IO in backend/members.py) ----------
    @functools.cached_property
    def members(self) -> Members:
        from .members import Members as Made  # on first use: the workbench starts without it

        return Made()

    async def poll_members(self) -> MembersView:
        """Read the set's status (what the server answers) and tell the panel."""
        view = await self.members.status(self.client)
        self.members_view = view
        self.notify(Changed.MEMBERS, None)
        if view.rolled_back:
            self._show_rolled_back(view.rolled_back)
        return view

    # -- writes a failover rolled back, shown on their steps (backend/rollbacks.py) --------
    @functools.cached_property
    def rollback_marks(self) -> RollbackMarks:
        from ..model.rollbacks import RollbackMarks as Made

        return Made()

    def _note_for_rollback(
        self, step_id: int, lane: Lane, item: QueuedOp | None, records: list[Any]
    ) -> list[dict[str, Any]]:
        """Remember the step (its writes may be rolled back later); return the rolled-back
        writes its own replies list."""
        from .rollbacks import from_records

        if item is not None:
            self.rollback_marks.note_step(step_id, lane.id, item)
        return from_records(records)

    def _show_rolled_back(self, rolled_back: list[dict[str, Any]]) -> None:
        from .rollbacks import show

        if show(self, rolled_back):
            # The committed panel may show an undone write (re-read after a w:1 write; no
            # change event reports a rollback): read it again.
            self.tasks.spawn(self._quietly(self.refresh_committed))

    def answered_by(self, records: list[Any]) -> str:
        """`answered by 127.0.0.1:PORT (secondary)`: the member whose connection carried
        the step's last command (the monitor's record of pymongo's connection_id), with
        its role as replSetGetStatus last gave it; "" on one member."""
        if self.deployment is None or self.deployment.members <= 1:
            return ""
        address = next((r.address for r in reversed(records) if r.address), "")
        if not address:
            return ""
        role = self.members_view.role_of(address) if self.members_view is not None else ""
        return f"answered by {address}" + (f" ({role})" if role else "")

    def _committed_client(self) -> Any:
        """The client the committed panel reads with: the chosen member's own (direct)."""
        if self.view_member is None:
            return self.client
        return self.members.direct(self.view_member)

    def cycle_view_member(self) -> str | None:
        """The committed panel's next view: the primary (through the client), then each
        member's own data in turn."""
        hosts = [m.host for m in self.members_view.members] if self.members_view else []
        order: list[str | None] = [None, *hosts]
        at = order.index(self.view_member) if self.view_member in order else 0
        self.view_member = order[(at + 1) % len(order)]
        return self.view_member


__all__ = ["BadURI", "LaneBusy", "Workbench"]

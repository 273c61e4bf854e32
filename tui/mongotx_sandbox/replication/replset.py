"""The set: its members, the majority commit point, elections, step-down, kill and restart,
and the writes rolled back by a failover."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import Callable, Hashable
from typing import Any

from bson.objectid import ObjectId

from .. import waits
from ..errors import CommandError
from ..state import ServerState
from ..topology import ELECTION_TIMEOUT_MS
from . import applier, rollback
from .member import Listener, SetMember
from .roles import DOWN, PRIMARY, SECONDARY, election_id


class ReplicaSet:
    """Several members in one process sharing one version store: each secondary reads it
    at the oplog time it has applied (`SetMember.applied`)."""

    def __init__(self, name: str, election_timeout_ms: int = ELECTION_TIMEOUT_MS) -> None:
        self.name = name
        self.election_timeout_ms = election_timeout_ms
        self.members: list[SetMember] = []
        self.term = 1
        self.set_version = 1
        self.topology_counter = 0
        self.commit_point = 0
        self.commit_wall = time.time()
        # Writes undone by rollback, oldest first (what a UI shows as rolled back).
        self.rolled_back: list[dict[str, Any]] = []
        # lsid key -> (txnNumber, optime) of its last retryable write, to forget the
        # recorded reply of a write that a rollback undoes (config.transactions is rolled
        # back with the oplog in MongoDB).
        self._retry_writes: dict[Hashable, tuple[int, int]] = {}
        self._progress: asyncio.Event | None = None
        self._control: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._election: asyncio.Task[None] | None = None

    # ---- building ---------------------------------------------------------------------
    def add(self, state: ServerState, listener: Listener) -> SetMember:
        member = SetMember(len(self.members), state, listener, self)
        state.replica = member
        self.members.append(member)
        return member

    async def start(self) -> None:
        """Member 0 is the first primary; everyone has applied everything so far."""
        self._progress = asyncio.Event()
        self._control = asyncio.Event()
        now = self.members[0].state.clock.now()
        for m in self.members:
            m.applied = now
            m.role = SECONDARY
        self.members[0].role = PRIMARY
        self.commit_point = now
        self._tasks = [asyncio.create_task(applier.run(m)) for m in self.members]

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._election] if self._election else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    # ---- positions ----------------------------------------------------------------------
    @property
    def primary(self) -> SetMember | None:
        return next((m for m in self.members if m.role == PRIMARY), None)

    def member(self, ref: int | str) -> SetMember:
        """A member by id or by host:port."""
        for m in self.members:
            if m.id == ref or m.host == ref:
                return m
        raise CommandError(2, f"no member of replica set {self.name} has _id or host {ref}")

    def last_write(self) -> int:
        """The newest oplog entry's optime (the primary's lastWrite)."""
        oplog = self.members[0].state.oplog
        return max(oplog[-1].seq if oplog else 0, self.primary_applied())

    def primary_applied(self) -> int:
        primary = self.primary
        return primary.applied if primary is not None else 0

    def optime(self, member: SetMember) -> int:
        """What `member` has applied; a primary has applied its own writes."""
        if member.role == PRIMARY:
            oplog = member.state.oplog
            if oplog and oplog[-1].seq > member.applied:
                member.applied, member.applied_wall = oplog[-1].seq, oplog[-1].wall
        return member.applied

    def majority_point(self, member: SetMember) -> int:
        """The majority commit point as `member` knows it (never past what it applied)."""
        return min(self.commit_point, self.optime(member))

    def acknowledged(self, target: int) -> int:
        """How many members have applied `target` (the primary included)."""
        return sum(1 for m in self.members if self.optime(m) >= target)

    def lag_secs(self, member: SetMember) -> float:
        """How far `member`'s applied write trails the primary's last write, in seconds."""
        primary = self.primary
        if primary is None or member is primary:
            return 0.0
        self.optime(primary)
        if member.applied >= primary.applied:
            return 0.0
        return max(0.0, primary.applied_wall - member.applied_wall)

    def pinned(self) -> int:
        """The oldest time a member or the commit point may still read at."""
        return min([self.commit_point, *(m.applied for m in self.members if m.up)])

    # ---- waiting --------------------------------------------------------------------------
    def progressed(self) -> None:
        """A member applied more: move the commit point and wake whoever waits."""
        optimes = sorted(((self.optime(m), m) for m in self.members), key=lambda x: -x[0])
        majority = len(self.members) // 2 + 1
        point, member = optimes[majority - 1]
        if point > self.commit_point:
            self.commit_point, self.commit_wall = point, member.applied_wall
            for m in self.members:
                if m.up:
                    m.state.notify_oplog()  # change streams report up to the commit point
        if self._progress is not None:
            self._progress.set()
            self._progress = asyncio.Event()

    async def wait_until(self, ready: Callable[[], bool], deadline: float | None) -> bool:
        """Wait for `ready()` as members apply; False if `deadline` (monotonic) came first."""
        while not ready():
            event = self._progress
            assert event is not None
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                return False
            try:
                await waits.within(event.wait(), timeout)
            except TimeoutError:
                return ready()
        return True

    def changed(self) -> None:
        """The topology changed: hello's topologyVersion moves, awaiting hellos answer."""
        self.topology_counter += 1
        if self._control is not None:
            self._control.set()
            self._control = asyncio.Event()
        self.progressed()

    async def wait_control(self, timeout: float) -> None:
        event = self._control
        if event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await waits.within(event.wait(), timeout)

    async def await_hello(self, member: SetMember, body: dict[str, Any]) -> None:
        """Awaitable hello: with the member's current topologyVersion, answer when the
        topology changes or after maxAwaitTimeMS [spec: server-discovery-and-monitoring
        "Server Monitoring", awaitable hello; srv:db/repl/replication_info.cpp]."""
        version = body.get("topologyVersion")
        wait_ms = body.get("maxAwaitTimeMS")
        if not isinstance(version, dict) or not isinstance(wait_ms, int | float):
            return
        if version.get("processId") != member.process_id:
            return
        if version.get("counter") != self.topology_counter:
            return
        deadline = time.monotonic() + max(0.0, float(wait_ms)) / 1000
        counter = self.topology_counter
        while self.topology_counter == counter and member.up:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await self.wait_control(left)

    # ---- controls ---------------------------------------------------------------------------
    def pause(self, ref: int | str, paused: bool = True) -> None:
        """Stop (or resume) a secondary's replication (the sandbox's own control)."""
        self.member(ref).paused = paused
        self.changed()

    def set_delay(self, ref: int | str, secs: float) -> None:
        """Apply each write `secs` after the primary made it (like secondaryDelaySecs)."""
        self.member(ref).delay_secs = max(0.0, float(secs))
        self.changed()

    def advance_clock(self, secs: float) -> None:
        """Move the set's wall clock `secs` ahead (the members share one machine's clock):
        a test's way to make a paused member's lastWriteDate trail the primary's by more
        than maxStalenessSeconds' 90 s floor without waiting (the sandbox's own control).
        The clock never goes back: timestamps and oplog wall times only increase."""
        self.members[0].state.clock.offset += max(0.0, float(secs))
        self.changed()

    def note_retryable_write(self, key: Hashable | None, txn_number: Any, seq: int) -> None:
        if key is not None and isinstance(txn_number, int):
            self._retry_writes[key] = (int(txn_number), seq)

    def freeze(self, member: SetMember, secs: float) -> None:
        """replSetFreeze: not electable for `secs` (0 unfreezes)."""
        if member.is_primary:
            raise CommandError(
                95, "cannot freeze node when primary or running for election. state: Primary"
            )
        member.frozen_until = time.monotonic() + secs if secs > 0 else 0.0

    async def step_down(
        self, member: SetMember, secs: float, catch_up_secs: float, force: bool = False
    ) -> None:
        """replSetStepDown: wait up to `catch_up_secs` for an electable secondary to catch
        up, step down, and hand the election to it (enableElectionHandoff)
        [manual: replSetStepDown; srv:db/repl/replication_coordinator_impl.cpp stepDown]."""
        if not member.is_primary:
            raise CommandError(10107, "not primary so can't step down")
        target = self.optime(member)

        def caught_up() -> SetMember | None:
            ready = [m for m in self._electable(exclude=member) if m.applied >= target]
            return max(ready, key=lambda m: m.applied, default=None)

        deadline = time.monotonic() + catch_up_secs
        await self.wait_until(lambda: caught_up() is not None, deadline)
        heir = caught_up()
        if heir is None and not force:
            when = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
            raise CommandError(
                262,
                f"No electable secondaries caught up as of {when}. Please use the "
                "replSetStepDown command with the argument {force: true} to force node to "
                "step down.",
            )
        self._demote(member, SECONDARY)
        member.frozen_until = time.monotonic() + secs
        if heir is not None:
            self._elect(heir)
        else:
            self._schedule_election()
        self.changed()

    async def kill(self, ref: int | str) -> None:
        """Take a member down (its process dies): it stops listening, loses its sessions,
        and if it was the primary the others elect one after electionTimeoutMillis."""
        member = self.member(ref)
        if not member.up:
            return
        was_primary = member.is_primary
        self._demote(member, DOWN)
        await member.listener.stop_listening(reset=True)
        if was_primary:
            self._schedule_election()
        elif not self._majority_up():
            self._schedule_election()  # the primary's liveness check, below
        self.changed()

    async def restart(self, ref: int | str) -> None:
        """Bring a killed member back as a secondary; a write it has that the set's
        primary never had is rolled back now [manual: "Rollbacks During Replica Set
        Failover"]."""
        member = self.member(ref)
        if member.up:
            return
        self._roll_back(member)
        member.state.fail_points.clear()  # a restarted mongod has none set
        member.process_id = ObjectId()  # a new process: hello's topologyVersion says so
        member.role = SECONDARY
        member.frozen_until = 0.0
        await member.listener.start_listening()
        if self.primary is None:
            self._schedule_election()
        self.changed()

    # ---- elections --------------------------------------------------------------------------
    def _electable(self, exclude: SetMember | None = None) -> list[SetMember]:
        now = time.monotonic()
        return [
            m
            for m in self.members
            if m.role == SECONDARY and m is not exclude and m.frozen_until <= now
        ]

    def _demote(self, member: SetMember, role: int) -> None:
        """Leave the primary role: open transactions abort, in-memory sessions go (their
        records stay), as on step-down [srv:db/repl/replication_coordinator_impl.cpp
        _stepDownFinish, killAllUserOperations; transaction_participant.cpp abort on
        step-down] or a crash."""
        self.optime(member)
        state = member.state
        for txn in state.open_transactions():
            state.abort(txn, "the primary stepped down" if role == SECONDARY else "shutdown")
        for key in list(state.sessions):
            state.forget_session(key)
        if role == DOWN:
            state.cursors.clear()
        member.role = role

    def _schedule_election(self) -> None:
        if self._election is not None and not self._election.done():
            return
        self._election = asyncio.create_task(self._run_election())

    def _majority_up(self) -> bool:
        return sum(1 for m in self.members if m.up) >= len(self.members) // 2 + 1

    async def _run_election(self) -> None:
        """After electionTimeoutMillis without a primary, the most up-to-date electable
        secondary wins if a majority of members is up [manual: "Replica Set Elections"].
        A primary that sees no majority for as long steps down [manual: "Replica Set
        Elections", a primary steps down when it cannot reach a majority;
        srv:db/repl/topology_coordinator.cpp checkShouldStandForElection / liveness]."""
        while True:
            await asyncio.sleep(self.election_timeout_ms / 1000)
            primary = self.primary
            if primary is not None:
                if self._majority_up():
                    return
                self._demote(primary, SECONDARY)
                self.changed()
                continue
            candidates = self._electable()
            if self._majority_up() and candidates:
                self._elect(max(candidates, key=lambda m: (m.applied, -m.id)))
                self.changed()
                return

    def _elect(self, winner: SetMember) -> None:
        """`winner` becomes primary in a new term; writes past its optime are undone."""
        common = winner.applied
        oplog = winner.state.oplog
        undone = []
        while oplog and oplog[-1].seq > common:
            undone.append(oplog.pop())
        undone.reverse()
        if undone:
            rollback.truncate(winner.state.catalog, common)
            self._forget_undone_records(winner.state, common)
            for m in self.members:
                if m.applied > common:
                    m.diverged.extend(e for e in undone if e.seq <= m.applied)
                    m.applied = common
                    if m.up:
                        self._roll_back(m)
        # Stepping up refreshes sessions from config.transactions
        # [srv:db/session/session_catalog_mongod.cpp MongoDSessionCatalog::onStepUp].
        # Only memory goes: the records are config.transactions, shared and already true.
        winner.state.sessions.clear()
        self.term += 1
        winner.role = PRIMARY
        winner.frozen_until = 0.0
        for m in self.members:
            m.state.election_id = election_id(self.term)

    def _roll_back(self, member: SetMember) -> None:
        self.rolled_back.extend(rollback.describe(e, member.host) for e in member.diverged)
        member.diverged.clear()

    def _forget_undone_records(self, state: ServerState, common: int) -> None:
        """config.transactions entries written after `common` are undone with the oplog:
        a retried write runs again, a retried commit finds no transaction."""
        from ..transactions import ServerTxnState

        for key, (txn_number, seq) in list(self._retry_writes.items()):
            record = state.txn_records.get(key)
            if seq > common and record is not None and record.txn_number == txn_number:
                record.replies.pop(txn_number, None)
                del self._retry_writes[key]
        for record in state.txn_records.values():
            if record.commit_seq is not None and record.commit_seq > common:
                record.outcome, record.commit_seq = ServerTxnState.NONE, None

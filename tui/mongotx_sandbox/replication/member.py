"""One member of a multi-member set: its role, how far it has applied the primary's oplog,
and the controls a trainer (or a test) has over its replication."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bson.objectid import ObjectId

from .. import topology
from ..clock import int_to_ts
from ..state import OplogEntry, ServerState
from . import command_rules
from .roles import DOWN, PRIMARY, SECONDARY, STATE_NAMES, STOP_FAIL_POINTS, election_id, utc


class Listener(Protocol):
    """What a member's network side offers the set: stop and resume listening (kill/restart)."""

    async def stop_listening(self, reset: bool = False) -> None: ...

    async def start_listening(self) -> None: ...


@dataclass(eq=False)
class SetMember:
    """A member: its server state (its sessions, cursors, fail points), its role, and the
    oplog position it has applied (its data is the shared version store read at that time)."""

    id: int
    state: ServerState
    listener: Listener
    rs: Any  # the ReplicaSet (replset.py, which imports this module)
    role: int = SECONDARY
    applied: int = 0  # the optime (cluster time) of the last oplog entry applied
    applied_wall: float = field(default_factory=time.time)
    delay_secs: float = 0.0  # secondaryDelaySecs-like lag, set per member
    paused: bool = False  # the sandbox's own pause (the members panel)
    frozen_until: float = 0.0  # replSetFreeze / replSetStepDown: not electable before
    process_id: ObjectId = field(default_factory=ObjectId)
    # Writes this member holds that the set's new primary never had: rolled back (and
    # listed in ReplicaSet.rolled_back) when the member rejoins.
    diverged: list[OplogEntry] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.state.host

    @property
    def up(self) -> bool:
        return self.role != DOWN

    @property
    def is_primary(self) -> bool:
        return self.role == PRIMARY

    @property
    def stopped(self) -> bool:
        """Whether this secondary's replication is stopped (pause or a fail point)."""
        if self.paused:
            return True
        points = self.state.fail_points
        return bool(points) and any(name in points for name in STOP_FAIL_POINTS)

    def describe(self) -> dict[str, Any]:
        """What a members panel shows (the Python API; replSetGetStatus has the wire form)."""
        return {
            "id": self.id,
            "host": self.host,
            "state": STATE_NAMES[self.role],
            "optime": int_to_ts(self.applied),
            "optimeDate": utc(self.applied_wall),
            "lagSecs": self.rs.lag_secs(self),
            "delaySecs": self.delay_secs,
            "paused": self.stopped,
        }

    # ---- dispatch's hooks (ServerState.replica) -------------------------------------
    async def before_command(self, ctx: Any, spec: Any, name: str, body: dict[str, Any]) -> None:
        await command_rules.before_command(self, ctx, spec, name, body)

    async def after_command(
        self, ctx: Any, spec: Any, name: str, body: dict[str, Any], reply: dict[str, Any]
    ) -> None:
        await command_rules.after_command(self, ctx, spec, name, body, reply)

    def change_horizon(self) -> int:
        """The newest oplog time a change stream on this member may report."""
        return int(self.rs.majority_point(self))

    def pinned(self) -> int:
        """The oldest time a member may still read at: history before it must stay."""
        return self.rs.pinned()

    def topology(self) -> topology.Topology:
        """The set as this member describes it (hello, replSetGetStatus, write concern)."""
        rs = self.rs
        members = tuple(
            topology.Member(
                m.id,
                m.host,
                m.role,
                STATE_NAMES[m.role],
                m is self,
                optime=rs.optime(m),
                optime_wall=m.applied_wall,
                delay_secs=m.delay_secs,
                lag_secs=rs.lag_secs(m),
            )
            for m in rs.members
        )
        return topology.Topology(
            set_name=rs.name,
            members=members,
            election_id=election_id(rs.term),
            started=self.state.started,
            term=rs.term,
            set_version=rs.set_version,
            commit_point=rs.majority_point(self),
            commit_wall=rs.commit_wall,
            topology_version={"processId": self.process_id, "counter": rs.topology_counter},
            election_timeout_ms=rs.election_timeout_ms,
        )

    async def await_hello(self, body: dict[str, Any]) -> None:
        await self.rs.await_hello(self, body)

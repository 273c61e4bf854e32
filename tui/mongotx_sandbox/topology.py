"""The deployment as the commands that describe it see it: hello, replSetGetStatus,
replSetGetConfig, serverStatus' `repl`, and write concern (how many members can acknowledge a
write, which modes exist). One member, the primary, unless the server belongs to a
multi-member set (`ServerState.replica`, the replication package), which describes itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson.objectid import ObjectId

from .state import ServerState

# electionTimeoutMillis' default [manual: Replica Set Configuration, settings].
ELECTION_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Member:
    """One member of the replica set, as replSetGetStatus and replSetGetConfig list it."""

    id: int
    host: str
    state: int = 1  # MemberState: 1 PRIMARY, 2 SECONDARY (repl/member_state.h)
    state_str: str = "PRIMARY"
    is_self: bool = True
    # A multi-member set's positions (None: one member, whose optime is the clock's now).
    optime: int | None = None
    optime_wall: float | None = None
    delay_secs: float = 0.0
    lag_secs: float = 0.0


@dataclass(frozen=True)
class Topology:
    """A replica set (or a standalone server: `set_name` None) and its members."""

    set_name: str | None
    members: tuple[Member, ...]
    election_id: ObjectId
    started: float  # time.time() when this server started (uptime)
    # Write concern modes by name: only "majority" until a config sets getLastErrorModes
    # (manual: "Replica Set Configuration", settings.getLastErrorModes).
    write_concern_modes: frozenset[str] = frozenset({"majority"})
    term: int = 1
    set_version: int = 1
    commit_point: int | None = None  # None: one member, the clock's now
    commit_wall: float | None = None
    # hello's topologyVersion: only a multi-member set sends it (it answers awaitable hello).
    topology_version: dict[str, Any] | None = None
    election_timeout_ms: int = ELECTION_TIMEOUT_MS

    @property
    def me(self) -> Member:
        return next(m for m in self.members if m.is_self)

    @property
    def primary(self) -> Member | None:
        return next((m for m in self.members if m.state == 1), None)

    @property
    def hosts(self) -> list[str]:
        """The data-bearing members' addresses, as hello's `hosts` lists them."""
        return [m.host for m in self.members]

    @property
    def data_bearing(self) -> int:
        """How many members can acknowledge a write (the bound on a numeric `w`)."""
        return len(self.members)


def of(state: ServerState) -> Topology:
    """The deployment this server belongs to: a one-member replica set (or standalone), or
    the multi-member set that `state.replica` describes."""
    if state.replica is not None:
        described: Topology = state.replica.topology()
        return described
    return Topology(
        set_name=state.replset,
        members=(Member(0, state.host),),
        election_id=state.election_id,
        started=state.started,
    )

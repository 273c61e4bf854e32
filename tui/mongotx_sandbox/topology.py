"""The deployment as the commands that describe it see it: hello, replSetGetStatus,
replSetGetConfig, serverStatus' `repl`, and write concern (how many members can acknowledge a
write, which modes exist). Today one member, the primary; a multi-member set changes this file."""

from __future__ import annotations

from dataclasses import dataclass

from bson.objectid import ObjectId

from .state import ServerState


@dataclass(frozen=True)
class Member:
    """One member of the replica set, as replSetGetStatus and replSetGetConfig list it."""

    id: int
    host: str
    state: int = 1  # MemberState: 1 PRIMARY, 2 SECONDARY (repl/member_state.h)
    state_str: str = "PRIMARY"
    is_self: bool = True


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

    @property
    def me(self) -> Member:
        return next(m for m in self.members if m.is_self)

    @property
    def primary(self) -> Member:
        return next(m for m in self.members if m.state == 1)

    @property
    def hosts(self) -> list[str]:
        """The data-bearing members' addresses, as hello's `hosts` lists them."""
        return [m.host for m in self.members]

    @property
    def data_bearing(self) -> int:
        """How many members can acknowledge a write (the bound on a numeric `w`)."""
        return len(self.members)


def of(state: ServerState) -> Topology:
    """The deployment this server belongs to: a one-member replica set (or standalone)."""
    return Topology(
        set_name=state.replset,
        members=(Member(0, state.host),),
        election_id=state.election_id,
        started=state.started,
    )

"""The replica set's members as the server last described them (members panel, issue 13).

Made from `replSetGetStatus` (state, optime, lag, delay: the sandbox adds `lagSecs` and
`delaySecs`) and, on the sandbox, its `sandboxMember` status (whether a member's
replication is paused, and the rolled-back writes). Nothing here is what we expect: a
member we paused shows paused only once the server says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MemberRow:
    """One member, as replSetGetStatus lists it."""

    id: int
    host: str
    state: str  # stateStr: PRIMARY, SECONDARY, (not reachable/healthy), ...
    optime: str = ""  # the last applied optime's Timestamp, "seconds,increment"
    lag_s: float | None = None
    delay_s: float | None = None
    paused: bool | None = None  # None: the server does not say (not the sandbox)
    healthy: bool = True

    @property
    def role(self) -> str:
        return self.state.lower()

    def flags(self) -> str:
        """paused / delayed Ns / down, as words for the panel."""
        out = []
        if not self.healthy:
            out.append("down")
        if self.paused:
            out.append("paused")
        if self.delay_s:
            out.append(f"delayed {self.delay_s:g}s")
        return ", ".join(out)


@dataclass
class MembersView:
    """The whole set: its members, the majority commit point, what was rolled back."""

    set_name: str = ""
    members: list[MemberRow] = field(default_factory=list)
    commit_point: str = ""
    rolled_back: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # why the status could not be read (shown instead of the rows)

    def member(self, host: str) -> MemberRow | None:
        return next((m for m in self.members if m.host == host), None)

    @property
    def primary(self) -> MemberRow | None:
        return next((m for m in self.members if m.state == "PRIMARY"), None)

    def role_of(self, host: str) -> str:
        """`secondary`, `primary`, … of the member at `host` ("" when it is not listed)."""
        m = self.member(host)
        return m.role if m is not None else ""


def _optime(value: Any) -> str:
    ts = value.get("ts") if isinstance(value, dict) else None
    if ts is None:
        return ""
    return f"{ts.time},{ts.inc}" if hasattr(ts, "time") else str(ts)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_status(status: dict[str, Any], sandbox: dict[str, Any] | None = None) -> MembersView:
    """A MembersView of replSetGetStatus's reply, with the sandboxMember status's `paused`
    and `rolledBack` when given."""
    paused: dict[str, bool] = {}
    for m in (sandbox or {}).get("members") or []:
        if isinstance(m, dict) and isinstance(m.get("host"), str):
            paused[m["host"]] = bool(m.get("paused"))
    view = MembersView(set_name=str(status.get("set") or ""))
    for m in status.get("members") or []:
        host = str(m.get("name", "?"))
        view.members.append(
            MemberRow(
                id=int(m.get("_id", len(view.members))),
                host=host,
                state=str(m.get("stateStr") or "?"),
                optime=_optime(m.get("optime")),
                lag_s=_number(m.get("lagSecs")),
                delay_s=_number(m.get("delaySecs")),
                paused=paused.get(host),
                healthy=m.get("health", 1) == 1,
            )
        )
    view.commit_point = _optime((status.get("optimes") or {}).get("lastCommittedOpTime"))
    view.rolled_back = [dict(r) for r in (sandbox or {}).get("rolledBack") or []]
    return view

"""A lane's session options: the clients lanes need of their own, the options applied to a
lane, and what the lane shows after each step (its causal clock, its snapshot's time)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..model.lanes import Lane, LaneOptions, TxnOptions
from .connection import make_client

if TYPE_CHECKING:
    from ..model.monitor import CommandRecord
    from .lane_runner import LaneRunner


class LaneClients:
    """The clients made for lanes whose options the workbench's client lacks
    (retryWrites=false is a client option in pymongo, not a session's): one per such lane,
    on the same URI and with the same command monitor, closed with the lane, when its
    options go back to the default, and on a switch of deployment."""

    def __init__(self) -> None:
        self.clients: dict[int, Any] = {}

    def client_for(
        self, lane: Lane, uri: str, listeners: Callable[[], list[Any]], default: Any
    ) -> Any:
        """The client the lane's session runs on (`default`: the workbench's)."""
        args = lane.options.client_args()
        if not args or default is None:
            return default
        if lane.id not in self.clients:
            self.clients[lane.id] = make_client(uri, listeners(), **args)
        return self.clients[lane.id]

    async def close(self, lane_id: int) -> None:
        client = self.clients.pop(lane_id, None)
        if client is not None:
            try:
                await client.close()
            except Exception:
                pass

    async def close_all(self) -> None:
        for lane_id in list(self.clients):
            await self.close(lane_id)


def changes(old: LaneOptions, new: LaneOptions, txn_old: TxnOptions, txn_new: TxnOptions) -> str:
    """What the dialog changed, for the timeline: `snapshot on, retryWrites off`."""
    parts = []
    names = {
        "causal_consistency": "causalConsistency",
        "snapshot": "snapshot",
        "retry_writes": "retryWrites",
    }
    for attr, name in names.items():
        if getattr(old, attr) != getattr(new, attr):
            parts.append(f"{name} {'on' if getattr(new, attr) else 'off'}")
    if txn_old != txn_new:
        parts.append(f"transactions {txn_new.describe()}")
    return ", ".join(parts) or "unchanged"


def note_clock(lane: Lane, session: Any) -> None:
    """The session's causal clock as pymongo keeps it (public: operation_time, cluster_time),
    advanced by every reply the session got."""
    if session is None:
        return
    lane.operation_time = session.operation_time
    cluster = session.cluster_time
    lane.cluster_time = cluster.get("clusterTime") if isinstance(cluster, dict) else None


def snapshot_time(records: Iterable[CommandRecord], lsid: str) -> Any:
    """The cluster time a snapshot session reads at, from the server's reply to its first
    read: `cursor.atClusterTime` (find, aggregate) or `atClusterTime` (distinct), as the
    snapshot-sessions driver specification says the driver takes it. pymongo keeps it only
    in a private attribute, so the lane reads what the server answered (the monitor's
    record), which is also what the monitor shows."""
    for record in records:
        if not lsid or not record.lsid or not lsid.startswith(record.lsid):
            continue
        reply = record.reply or {}
        cursor = reply.get("cursor")
        at = cursor.get("atClusterTime") if isinstance(cursor, dict) else None
        at = at if at is not None else reply.get("atClusterTime")
        if at is not None:
            return at
    return None


def after_step(lane: Lane, runner: LaneRunner | None, records: Iterable[CommandRecord]) -> None:
    """What the lane shows after a step: its clock, and a snapshot session's read time."""
    if runner is None or runner.session is None:
        return
    note_clock(lane, runner.session)
    if lane.options.snapshot and lane.snapshot_time is None:
        lane.snapshot_time = snapshot_time(records, lane.lsid)


def unsent_concerns(spec: Any, records: Iterable[CommandRecord]) -> str:
    """A note when the driver left out a concern the operation asked for: inside a
    transaction pymongo sends its statements without the collection's write concern and
    read concern (the transaction's apply; pymongo common.py _write_concern_for, message.py
    _gen_find_command), so the monitor's record of the command is what tells."""
    from ..model.op_options import READ_CONCERN, WRITE_CONCERN

    if spec is None:
        return ""
    try:
        values = spec.values()
    except Exception:
        return ""
    commands = [r.command for r in records if not r.workbench]
    if not commands:
        return ""
    missing = []
    wc = values.get(WRITE_CONCERN)
    if wc is not None and all(c.get("writeConcern") != wc for c in commands):
        missing.append("writeConcern")
    rc = values.get(READ_CONCERN)
    if rc is not None and all(
        (c.get("readConcern") or {}).get("level") != rc.get("level") for c in commands
    ):
        missing.append("readConcern")
    if not missing:
        return ""
    return f" · its {' and '.join(missing)} not sent: pymongo sends the transaction's"

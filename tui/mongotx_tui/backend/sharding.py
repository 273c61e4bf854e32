"""Read a sharded cluster through its router: `listShards` for its shards and the shards'
own `$currentOp` (no `localOps`: one entry per participant, tagged with its shard) for each
open transaction's participants and prepare timestamps. No textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.sharding import ClusterView, participants_of, shards_of
from .operations import error_info

if TYPE_CHECKING:
    from .workbench import Workbench

SHARDED = "sharded cluster"


def is_sharded(wb: Workbench) -> bool:
    return wb.deployment is not None and wb.deployment.topology == SHARDED


async def read_cluster(wb: Workbench, lanes: dict[str, str]) -> ClusterView:
    """One read; a refusal is said in one sentence (the view stays up)."""
    if wb.client is None:
        return ClusterView(error="Not connected yet")
    try:
        reply = await wb.client.admin.command("listShards")
        options = {"idleSessions": True, "allUsers": True}
        cursor = await wb.client.admin.aggregate([{"$currentOp": options}])
        docs = await cursor.to_list(None)
    except Exception as exc:
        return ClusterView(
            error=f"reading the cluster failed: {error_info(exc, wb.scrub).one_line()}"
        )
    return ClusterView(shards=shards_of(reply), txns=participants_of(docs, lanes))


async def follow_participants(wb: Workbench) -> list[int]:
    """Refresh each lane's participants line from the shards' $currentOp; the ids of the
    lanes whose line changed. Reads only while a lane has a transaction open or a line
    still to close."""
    from ..model.lanes import TxnState
    from ..model.sharding import lane_line
    from .server_view import lane_sessions

    watched = [
        ln for ln in wb.lanes if ln.txn_live or ln.busy or (ln.shards and "→" not in ln.shards)
    ]
    if not is_sharded(wb) or not watched:
        return []
    cluster = await read_cluster(wb, lane_sessions(wb)[0])
    if cluster.error:
        return []
    changed = []
    for lane in watched:
        ended = not lane.txn_live and not lane.busy
        committed = lane.txn_state is TxnState.COMMITTED
        line = lane_line(cluster.of_lane(lane.name), lane.shards, committed, ended)
        if line != lane.shards:
            lane.shards = line
            changed.append(lane.id)
    return changed


def sharded_refusal(wb: Workbench, scenario: object) -> str:
    """Why a lesson for a sharded cluster cannot run here ("" when it can): its steps shard
    collections, which only a router does (a replica set answers shardCollection with 59
    CommandNotFound)."""
    if not getattr(scenario, "sharded", False) or is_sharded(wb):
        return ""
    where = wb.deployment.topology if wb.deployment is not None else "this deployment"
    name = getattr(scenario, "name", "")
    return (
        f"Not loaded: {name} is a lesson for a sharded cluster, and this is a {where}. "
        f"Start `mongotx-tui --sharded`, or run it headless: `mongotx-tui run {name}` "
        "starts a sharded sandbox for it."
    )

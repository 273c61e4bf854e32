"""A secondary's replication: apply the primary's oplog entries in order, each once its
member's delay has passed, unless replication is paused or stopped by a fail point."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .. import waits
from .roles import SECONDARY

# How long an idle applier sleeps before it looks at its controls again (a new oplog entry
# wakes it at once: the primary's oplog event).
_IDLE_SECS = 0.05


def pending(member: Any, oplog: Any) -> list[Any]:
    """The entries `member` has not applied yet, oldest first."""
    out = []
    for entry in reversed(oplog):
        if entry.seq <= member.applied:
            break
        out.append(entry)
    out.reverse()
    return out


async def run(member: Any) -> None:
    """The applier loop of one member, for as long as the set runs."""
    rs = member.rs
    while True:
        primary = rs.primary
        if member.role != SECONDARY or primary is None or member.stopped:
            await rs.wait_control(_IDLE_SECS)
            continue
        event = primary.state.oplog_event
        todo = pending(member, primary.state.oplog)
        wait = _IDLE_SECS
        if todo:
            now = primary.state.clock.wall()
            due = [e for e in todo if e.wall + member.delay_secs <= now]
            if due:
                last = due[-1]
                member.applied, member.applied_wall = last.seq, last.wall
                member.state.notify_oplog()  # change streams on this member
                rs.progressed()
                continue
            wait = min(wait, todo[0].wall + member.delay_secs - now)
        if event is None:
            await asyncio.sleep(wait)
            continue
        with contextlib.suppress(TimeoutError):
            await waits.within(event.wait(), max(wait, 0.001))

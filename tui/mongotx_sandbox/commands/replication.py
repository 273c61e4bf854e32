"""replSetStepDown, replSetFreeze, and the sandbox's own member controls (sandboxMember):
pause, resume, delay, kill and restart a member of a multi-member set."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from ..access import OpContext
from ..errors import CommandError
from .registry import command

_ACTIONS = ("pause", "resume", "delay", "kill", "restart", "status", "advanceClock")
_WHOLE_SET = ("status", "advanceClock")  # the member named does not matter


def _replica(ctx: OpContext) -> Any:
    if ctx.state.replset is None:
        raise CommandError(76, "not running with --replSet")
    return ctx.state.replica


def _seconds(body: dict[str, Any], field: str, default: float) -> float:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(14, f"'{field}' must be a number")
    return float(value)


@command("replSetStepDown", admin_only=True)
async def repl_set_step_down(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Step the primary down for `replSetStepDown` seconds once an electable secondary has
    caught up within secondaryCatchUpPeriodSecs (manual: replSetStepDown)."""
    member = _replica(ctx)
    secs = _seconds(body, "replSetStepDown", 60)
    catch_up = _seconds(body, "secondaryCatchUpPeriodSecs", min(10.0, secs))
    if catch_up > secs:
        raise CommandError(2, "stepdown period must be longer than secondaryCatchUpPeriodSecs")
    if member is None:
        # One member: nobody can take over [srv:db/repl/replication_coordinator_impl.cpp
        # stepDown, "No electable secondaries caught up"].
        when = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        raise CommandError(
            262,
            f"No electable secondaries caught up as of {when}. Please use the replSetStepDown "
            "command with the argument {force: true} to force node to step down.",
        )
    await member.rs.step_down(member, secs, catch_up, bool(body.get("force")))
    return {"ok": 1.0}


@command("replSetFreeze", admin_only=True)
async def repl_set_freeze(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Keep this member from standing for election for N seconds (0: unfreeze)."""
    member = _replica(ctx)
    secs = _seconds(body, "replSetFreeze", 0)
    if member is not None:
        member.rs.freeze(member, secs)
    return {"ok": 1.0}


@command("sandboxMember", admin_only=True)
async def sandbox_member(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's member controls, sent to any member:
    `{sandboxMember: <id or "host:port">, action: "pause" | "resume" | "delay" | "kill" |
    "restart" | "status" | "advanceClock", delaySecs: n, secs: n}`; `status` lists the
    members and the rolled-back writes; `advanceClock` moves the set's wall clock `secs`
    ahead (tests of maxStalenessSeconds). Not a MongoDB command: real sets do this with tc,
    docker, kill or the host's clock."""
    member = _replica(ctx)
    if member is None:
        raise CommandError(76, "sandboxMember needs a multi-member set (--members 3)")
    rs = member.rs
    action = body.get("action", "status")
    if action not in _ACTIONS:
        raise CommandError(2, f"action must be one of {', '.join(_ACTIONS)}")
    ref = body["sandboxMember"]
    if action not in _WHOLE_SET and (isinstance(ref, bool) or not isinstance(ref, int | str)):
        raise CommandError(14, "sandboxMember must be a member's _id or host:port")
    if action in ("pause", "resume"):
        rs.pause(ref, action == "pause")
    elif action == "delay":
        rs.set_delay(ref, _seconds(body, "delaySecs", 0))
    elif action == "kill":
        if rs.member(ref) is member:
            # Killing the member that answers: the reply goes nowhere, as from a killed mongod.
            asyncio.get_running_loop().create_task(rs.kill(ref))
        else:
            await rs.kill(ref)
    elif action == "restart":
        await rs.restart(ref)
    elif action == "advanceClock":
        secs = _seconds(body, "secs", 0)
        if secs < 0:
            raise CommandError(2, "secs must not be negative: the clock only moves ahead")
        rs.advance_clock(secs)
    return {
        "members": [m.describe() for m in rs.members],
        "rolledBack": list(rs.rolled_back),
        "ok": 1.0,
    }

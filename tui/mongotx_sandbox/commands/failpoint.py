"""configureFailPoint and waitForFailPoint (test commands; the fail points of failpoints.py)."""

from __future__ import annotations

import time
from typing import Any

from .. import waits
from ..access import OpContext
from ..errors import CommandError
from ..failpoints import FAIL_POINTS, changed, configure
from .registry import command


@command("configureFailPoint", admin_only=True)
async def configure_fail_point(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    if not ctx.state.parameters.get("enableTestCommands", True):
        # A mongod started without enableTestCommands never registers its test-only
        # commands, configureFailPoint among them: the lookup finds none (mongodb/mongo
        # src/mongo/db/commands/fail_point_cmd.cpp: MONGO_REGISTER_TEST_COMMAND(
        # FaultInjectCmd); docs/test_commands.md).
        raise CommandError(59, "no such command: 'configureFailPoint'")
    name = body["configureFailPoint"]
    configure(ctx.state, name, body.get("mode"), body.get("data"))
    # How many times it was entered before this change [srv:db/commands/fail_point_cmd.cpp].
    return {"count": ctx.state.fail_point_counts.get(name, 0), "ok": 1.0}


@command("waitForFailPoint", admin_only=True)
async def wait_for_fail_point(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Wait until the fail point has been entered `timesEntered` times, within maxTimeMS
    [srv:db/commands/fail_point_cmd.cpp WaitForFailPointCommand]."""
    if not ctx.state.parameters.get("enableTestCommands", True):
        raise CommandError(59, "no such command: 'waitForFailPoint'")
    name = body.get("waitForFailPoint")
    if name not in FAIL_POINTS:
        raise CommandError(2, f"Cannot find fail point '{name}'")
    target = body.get("timesEntered")
    if not isinstance(target, int | float) or isinstance(target, bool):
        raise CommandError(40414, "BSON field 'timesEntered' is missing but a required field")
    while ctx.state.fail_point_counts.get(name, 0) < target:
        timeout = None if ctx.deadline is None else ctx.deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise CommandError(50, "operation exceeded time limit")
        try:
            await waits.within(changed(ctx.state), timeout)
        except TimeoutError:
            raise CommandError(50, "operation exceeded time limit") from None
    return {"ok": 1.0}

"""configureFailPoint (test command; only the failCommand fail point)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..errors import CommandError
from ..failpoints import configure
from .registry import command


@command("configureFailPoint", admin_only=True)
async def configure_fail_point(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    if not ctx.state.parameters.get("enableTestCommands", True):
        # A mongod started without enableTestCommands never registers its test-only
        # commands, configureFailPoint among them: the lookup finds none (mongodb/mongo
        # src/mongo/db/commands/fail_point_cmd.cpp: MONGO_REGISTER_TEST_COMMAND(
        # FaultInjectCmd); docs/test_commands.md).
        raise CommandError(59, "no such command: 'configureFailPoint'")
    configure(ctx.state, body["configureFailPoint"], body.get("mode"), body.get("data"))
    return {"ok": 1.0}

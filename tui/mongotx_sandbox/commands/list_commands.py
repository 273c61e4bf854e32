"""listCommands: the commands this server has (issue 17, D15)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..auth.rules import NO_AUTH
from .registry import MODULES, command, lookup


@command("listCommands")
async def list_commands(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Every command name the sandbox answers, aliases included, in name order, each with
    mongod's fields [srv:db/commands/generic.cpp CmdListCommands]: `requiresAuth` false for
    the commands that run before login (auth/rules.py); no Stable API sets: `apiVersions`
    empty."""
    commands: dict[str, Any] = {}
    for name in sorted(MODULES, key=str.lower):
        spec = lookup(name)
        if spec is None:  # pragma: no cover - MODULES lists only registered names
            continue
        doc = (spec.handler.__doc__ or "").strip().splitlines()
        commands[name] = {
            "help": doc[0] if doc else f"the sandbox's {spec.name}",
            "requiresAuth": spec.name not in NO_AUTH,
            "secondaryOk": spec.reads or spec.informational,
            "adminOnly": spec.admin_only,
            "apiVersions": [],
            "deprecatedApiVersions": [],
        }
    return {"commands": commands, "ok": 1.0}

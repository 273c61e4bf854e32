"""mapReduce: known, but never run (issue 17, D15 neighbours)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..errors import CommandError
from .registry import command


@command("mapReduce", "mapreduce")
async def map_reduce(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The sandbox has no JavaScript engine: it answers as a mongod started with
    `security.javascriptEnabled: false` [manual: "Disable Server-Side Execution of
    JavaScript"; srv:db/commands/map_reduce*: "cannot run map reduce without the js
    engine"]. Being a known command, the session and transaction rules come first: with a
    txnNumber it is 50768, in a transaction 263, as for mongod. ($group and $merge do what
    map-reduce did; map-reduce is deprecated since 5.0.)"""
    raise CommandError(16149, "cannot run map reduce without the js engine")

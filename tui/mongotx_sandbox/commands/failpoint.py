"""configureFailPoint (test command; only the failCommand fail point)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..failpoints import configure
from .registry import command


@command("configureFailPoint", admin_only=True)
async def configure_fail_point(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    configure(ctx.state, body["configureFailPoint"], body.get("mode"), body.get("data"))
    return {"ok": 1.0}

"""The members panel's IO (issue 13 item 5): read the set's status, pause or delay a
member's replication, step the primary down, and read one member's own data.

Pause and resume use MongoDB's own fail point on that member (`rsSyncApplyStop`, the
server's test hook that stops a secondary applying its oplog: src/mongo/db/repl/
oplog_applier_impl.cpp in mongodb/mongo), over a direct connection to it; the delay has no
live MongoDB command (secondaryDelaySecs needs a reconfig), so it uses the sandbox's
documented `sandboxMember` control.
"""

from __future__ import annotations

from typing import Any

from ..model.members import MembersView, parse_status
from .operations import error_info

STEP_DOWN_SECS = 60  # replSetStepDown's own default period (manual: replSetStepDown)


class Members:
    """Direct clients to each member, made on first use and closed with the workbench."""

    def __init__(self) -> None:
        self._direct: dict[str, Any] = {}

    def direct(self, host: str) -> Any:
        """A client of the one member at `host` (directConnection: it reads that member's
        own data, a secondary's included, and sends it commands such as fail points)."""
        if host not in self._direct:
            from pymongo import AsyncMongoClient

            self._direct[host] = AsyncMongoClient(
                f"mongodb://{host}/?directConnection=true", serverSelectionTimeoutMS=3000
            )
        return self._direct[host]

    async def close(self) -> None:
        clients, self._direct = list(self._direct.values()), {}
        for client in clients:
            try:
                await client.close()
            except Exception:
                pass

    @staticmethod
    async def status(client: Any) -> MembersView:
        """replSetGetStatus as the server answered it, and the sandbox's member status
        (paused, rolled back) where the server has that command."""
        try:
            status = await client.admin.command("replSetGetStatus")
        except Exception as exc:
            return MembersView(error=error_info(exc).one_line())
        extra = None
        try:
            extra = await client.admin.command({"sandboxMember": 0, "action": "status"})
        except Exception:
            pass  # not the sandbox: paused is unknown, shown as such
        return parse_status(status, extra)

    async def pause(self, host: str, on: bool) -> None:
        """Stop (or restart) the member's applying of the primary's oplog."""
        await self.direct(host).admin.command(
            {"configureFailPoint": "rsSyncApplyStop", "mode": "alwaysOn" if on else "off"}
        )

    @staticmethod
    async def delay(client: Any, member_id: int, seconds: float) -> None:
        await client.admin.command(
            {"sandboxMember": member_id, "action": "delay", "delaySecs": seconds}
        )

    @staticmethod
    async def step_down(client: Any, force: bool = False) -> None:
        """replSetStepDown on the primary (the client sends admin commands there); with
        `force`, without waiting for a secondary to catch up, so the new primary may lack
        the old one's last writes, which are then rolled back (manual: replSetStepDown)."""
        command: dict[str, Any] = {"replSetStepDown": STEP_DOWN_SECS}
        if force:
            command["force"] = True
        await client.admin.command(command)

"""A router's connections to one shard: OP_MSG over asyncio streams, as mongos's
connection pool talks to a mongod (one request at a time per connection)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..wire import HEADER, OP_MSG, build_op_msg, decode_document


class ShardConnection:
    """One socket to the shard's primary."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        self.writer.write(build_op_msg(0, body))
        head = await self.reader.readexactly(HEADER.size)
        length, _, _, op_code = HEADER.unpack(head)
        payload = await self.reader.readexactly(length - HEADER.size)
        if op_code != OP_MSG:
            raise ConnectionError("unexpected reply opcode")
        # Flags (4 bytes), then one kind-0 section: the sandbox's reply shape (wire.build_op_msg).
        return decode_document(payload[5:])

    def close(self) -> None:
        self.writer.close()


class Shard:
    """A shard as the router sees it: its name, its primary's address, a connection pool."""

    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._idle: list[ShardConnection] = []
        self.round_trips = 0  # commands sent, for the benchmark and the command monitor

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run `body` on the shard; an OSError when the shard cannot be reached."""
        conn = self._idle.pop() if self._idle else None
        if conn is None:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            conn = ShardConnection(reader, writer)
        self.round_trips += 1
        try:
            reply = await conn.command(body)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            conn.close()
            raise ConnectionError(f"connection to {self.address} closed") from exc
        except BaseException:
            conn.close()  # cancelled mid-reply: the socket's framing is lost
            raise
        self._idle.append(conn)
        return reply

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

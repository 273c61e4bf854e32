"""Router cursors: the shards' cursors of one query, merged. Results are merged by the
query's sort (a k-way merge of the shards' sorted streams), skip and limit applied at the
router, and the client's getMore pulls more from the shards as needed [srv:s/query/exec/
async_results_merger.cpp AsyncResultsMerger; s/query/exec/cluster_find.cpp]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bson.int64 import Int64

from ..engine import apply_projection, sort_documents
from .core import Call, raise_for


@dataclass
class Stream:
    """One shard's cursor: its buffered documents and whether the shard has more."""

    shard: str
    ns: str
    cursor_id: int
    buffer: list[dict[str, Any]]

    async def fill(self, call: Call) -> None:
        """Fetch the shard's next batch when the buffer is empty and the shard has more."""
        while not self.buffer and self.cursor_id:
            db, _, coll = self.ns.partition(".")
            reply = await call.send(
                self.shard, {"getMore": Int64(self.cursor_id), "collection": coll}, db
            )
            raise_for(reply)
            cursor = reply["cursor"]
            self.cursor_id = int(cursor.get("id", 0))
            self.buffer = list(cursor.get("nextBatch", []))


@dataclass
class RouterCursor:
    ns: str
    streams: list[Stream]
    sort: dict[str, Any] | None = None
    skip: int = 0
    limit: int = 0  # 0: no limit
    projection: dict[str, Any] | None = None  # applied at the router (sort merged first)
    returned: int = 0
    id: int = 0
    lsid_id: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        if self.limit and self.returned >= self.limit:
            return True
        return all(not s.buffer and not s.cursor_id for s in self.streams)

    async def _next(self, call: Call) -> dict[str, Any] | None:
        for s in self.streams:
            await s.fill(call)
        live = [s for s in self.streams if s.buffer]
        if not live:
            return None
        if self.sort and len(live) > 1:
            heads = [s.buffer[0] for s in live]
            first = sort_documents(heads, self.sort)[0]
            stream = live[next(i for i, h in enumerate(heads) if h is first)]
        else:
            stream = live[0]
        return stream.buffer.pop(0)

    async def batch(self, call: Call, size: int | None) -> list[dict[str, Any]]:
        """Up to `size` documents (None: all that remain)."""
        out: list[dict[str, Any]] = []
        while size is None or len(out) < size:
            if self.limit and self.returned >= self.limit:
                break
            doc = await self._next(call)
            if doc is None:
                break
            if self.skip:
                self.skip -= 1
                continue
            if self.projection is not None:
                doc = apply_projection(doc, self.projection)
            out.append(doc)
            self.returned += 1
        return out

    async def close(self, call: Call) -> None:
        """Kill the shards' cursors still open."""
        for s in self.streams:
            if s.cursor_id:
                db, _, coll = s.ns.partition(".")
                await call.send(s.shard, {"killCursors": coll, "cursors": [Int64(s.cursor_id)]}, db)
                s.cursor_id = 0

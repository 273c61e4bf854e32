"""The committed state of the watched collection: paged reads, change-stream push,
polling fallback. Reads here are non-transactional (what any outside reader sees)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..model.page import PAGE_SIZE, Page

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient


async def load_page(
    client: AsyncMongoClient[dict[str, Any]],
    db: str,
    coll: str,
    number: int = 0,
    size: int = PAGE_SIZE,
    perf: Callable[[], float] | None = None,
    count: bool = True,
) -> Page:
    """One page in _id order; never loads the whole collection."""
    import time

    perf = perf or time.perf_counter
    t0 = perf()
    collection = client[db][coll]
    cursor = collection.find({}, sort=[("_id", 1)]).skip(number * size).limit(size)
    docs = await cursor.to_list(size)
    total = await count_documents(client, db, coll) if count else None
    return Page(docs, number, total, (perf() - t0) * 1000)


async def count_documents(
    client: AsyncMongoClient[dict[str, Any]], db: str, coll: str
) -> int | None:
    try:
        return int(await client[db][coll].estimated_document_count())
    except Exception:
        return None


ChangeHandler = Callable[[dict[str, Any]], Awaitable[None] | None]


CHANGE_STREAM = "change stream"  # the watch mode while pushes arrive (shown in the panel)


async def watch_changes(
    client: AsyncMongoClient[dict[str, Any]],
    db: str,
    coll: str,
    on_change: ChangeHandler,
    on_mode: Callable[[str], None],
    poll_interval: float = 1.0,
) -> None:
    """Push change events to `on_change` for ever; fall back to polling when change
    streams are unavailable (standalone servers). Cancel the task to stop."""
    from pymongo.errors import OperationFailure, PyMongoError

    collection = client[db][coll]
    try:
        resume_after: Any = None
        while True:
            # A drop or rename ends a collection's stream with an `invalidate` event; a new
            # stream started after it keeps watching the namespace (manual: "Resume after
            # an invalidate event" needs startAfter).
            async with await collection.watch(
                max_await_time_ms=500, start_after=resume_after
            ) as stream:
                on_mode(CHANGE_STREAM)
                async for change in stream:
                    result = on_change(change)
                    if asyncio.iscoroutine(result):
                        await result
                    if change.get("operationType") == "invalidate":
                        break
                resume_after = stream.resume_token
    except OperationFailure as exc:
        on_mode(f"polling every {poll_interval:g}s (change streams unavailable: {exc.code})")
    except PyMongoError as exc:
        on_mode(f"polling every {poll_interval:g}s ({type(exc).__name__})")
    # Polling: compare a cheap fingerprint of the first page; report a synthetic event.
    last: Any = None
    while True:
        try:
            docs = await collection.find({}, sort=[("_id", 1)]).limit(PAGE_SIZE).to_list()
            count = await collection.estimated_document_count()
            fingerprint = (count, repr(docs))
            if last is not None and fingerprint != last:
                result = on_change({"operationType": "poll", "ns": {"db": db, "coll": coll}})
                if asyncio.iscoroutine(result):
                    await result
            last = fingerprint
        except PyMongoError:
            pass
        await asyncio.sleep(poll_interval)


def describe_change(change: dict[str, Any]) -> str:
    """`update alice (txn 3)` for the timeline."""
    from ..model.literals import format_value

    op = change.get("operationType", "?")
    key = change.get("documentKey", {}).get("_id")
    text = op if key is None else f"{op} {format_value(key)}"
    if "txnNumber" in change:
        text += f" (txn {change['txnNumber']})"
    desc = change.get("updateDescription")
    if desc and desc.get("updatedFields"):
        text += " " + format_value(desc["updatedFields"])
    return text

"""$changeStream: committed writes as change events, with resume tokens.

A committed transaction's events all carry its commit time, lsid and txnNumber and appear
together at commit; aborted transactions emit nothing (reference §5.4).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bson.int64 import Int64
from bson.timestamp import Timestamp

from .. import engine
from ..access import OpContext, engine_error
from ..clock import int_to_ts, ts_to_int
from ..cursors import cursor_reply, open_cursor
from ..errors import CommandError
from ..state import OplogEntry, ServerState, session_key


def _token(seq: int, index: int) -> dict[str, Any]:
    return {"_data": f"{seq:016X}{index:08X}"}


def _parse_token(token: Any) -> tuple[int, int]:
    data = token.get("_data") if isinstance(token, dict) else None
    if not isinstance(data, str) or len(data) != 24:
        raise CommandError(260, "Invalid resume token: the sandbox cannot decode it")
    try:
        return int(data[:16], 16), int(data[16:], 16)
    except ValueError as exc:
        raise CommandError(260, "Invalid resume token") from exc


class ChangeStream:
    def __init__(
        self,
        state: ServerState,
        db: str | None,
        coll: str | None,
        pipeline: list[dict[str, Any]],
        options: dict[str, Any],
    ) -> None:
        self.state = state
        self.db = db
        self.coll = coll
        self.pipeline = pipeline
        self.full_document = options.get("fullDocument", "default")
        self.position: tuple[int, int] = (state.clock.now(), 1 << 31)
        self.show_expanded = bool(options.get("showExpandedEvents"))
        token = options.get("resumeAfter") or options.get("startAfter")
        if token is not None:
            self.position = _parse_token(token)
        elif isinstance(options.get("startAtOperationTime"), Timestamp):
            self.position = (ts_to_int(options["startAtOperationTime"]) - 1, 1 << 31)
        self.last_token = _token(*self.position)

    def resume_token(self) -> dict[str, Any]:
        return self.last_token

    def _wanted(self, entry: OplogEntry) -> bool:
        if self.db is not None and entry.db != self.db:
            return False
        if self.coll is not None and entry.coll != self.coll and entry.op != "dropDatabase":
            return False
        return True

    def _event(self, entry: OplogEntry, index: int) -> dict[str, Any]:
        op = entry.op
        event: dict[str, Any] = {
            "_id": _token(entry.seq, index),
            "operationType": op,
            "clusterTime": int_to_ts(entry.seq),
            "wallTime": datetime.fromtimestamp(entry.wall, UTC).replace(tzinfo=None),
            "ns": {"db": entry.db, "coll": entry.coll} if entry.coll else {"db": entry.db},
        }
        if op in ("insert", "update", "replace", "delete"):
            event["documentKey"] = {"_id": entry.doc_id}
        if op in ("insert", "replace"):
            event["fullDocument"] = entry.doc
        if op == "update":
            event["updateDescription"] = entry.update_description or {
                "updatedFields": {},
                "removedFields": [],
                "truncatedArrays": [],
            }
            if self.full_document in ("updateLookup", "whenAvailable", "required"):
                coll = self.state.catalog.get(entry.db, entry.coll)
                event["fullDocument"] = coll.committed(entry.key, None) if coll else None
        if entry.lsid is not None:
            event["lsid"] = entry.lsid
            event["txnNumber"] = Int64(entry.txn_number or 0)
        return event

    def _pending(self, limit: int | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seq0, idx0 = self.position
        last_seq, index = None, 0
        for entry in self.state.oplog:
            if entry.seq != last_seq:
                last_seq, index = entry.seq, 0
            else:
                index += 1
            if (entry.seq, index) <= (seq0, idx0) or not self._wanted(entry):
                continue
            event = self._event(entry, index)
            self.position = (entry.seq, index)
            self.last_token = event["_id"]
            if self.pipeline:
                try:
                    result = engine.run_pipeline([event], self.pipeline)
                except engine.EngineError as exc:
                    raise engine_error(exc) from exc
                out.extend(result)
            else:
                out.append(event)
            if limit and len(out) >= limit:
                break
        if not out:
            self.position = max(self.position, (self.state.clock.now(), 1 << 31))
            self.last_token = _token(*self.position)
        return out

    async def next_batch(self, batch_size: Any, wait_seconds: float) -> list[dict[str, Any]]:
        limit = batch_size if isinstance(batch_size, int) and batch_size > 0 else None
        batch = self._pending(limit)
        if batch or wait_seconds <= 0:
            return batch
        deadline = time.monotonic() + wait_seconds
        while not batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self.state.oplog_event
            assert event is not None
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            batch = self._pending(limit)
        return batch


async def open_change_stream(
    ctx: OpContext, body: dict[str, Any], pipeline: list[dict[str, Any]], first_batch: int | None
) -> dict[str, Any]:
    if next(iter(pipeline[0])) != "$changeStream":
        raise CommandError(40602, "$changeStream is only valid as the first stage in a pipeline.")
    options = pipeline[0]["$changeStream"] or {}
    target = body.get("aggregate")
    if options.get("allChangesForCluster"):
        if ctx.db != "admin":
            raise CommandError(40571, "allChangesForCluster is only valid on the admin database")
        db, coll = None, None
    elif target == 1:
        db, coll = ctx.db, None
    else:
        db, coll = ctx.db, target
    stream = ChangeStream(ctx.state, db, coll, pipeline[1:], options)
    batch = stream._pending(first_batch or None) if first_batch else []
    ns = f"{ctx.db}.{target if isinstance(target, str) else '$cmd.aggregate'}"
    _, cid = open_cursor(
        ctx.state,
        ns,
        [],
        first_batch=None,
        single_batch=False,
        lsid_key=session_key(ctx.session.lsid) if ctx.session else None,
        extra={"change_stream": stream},
    )
    if cid == 0:
        # An empty result closes a cursor; a change stream stays open: register it.
        from ..cursors import Cursor

        cid = ctx.state.next_cursor_id
        ctx.state.next_cursor_id += 1
        ctx.state.cursors[cid] = Cursor(cid, ns, [], extra={"change_stream": stream})
    return cursor_reply(ns, batch, cid, True, postBatchResumeToken=stream.resume_token())

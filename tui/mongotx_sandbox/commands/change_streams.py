"""$changeStream: committed writes as change events, with resume tokens.

A committed transaction's events all carry its commit time, lsid and txnNumber and appear
together at commit; aborted transactions emit nothing (reference §5.4).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import bson
from bson.int64 import Int64
from bson.timestamp import Timestamp

from .. import engine, waits
from ..access import OpContext, engine_error
from ..clock import int_to_ts, ts_to_int
from ..cursors import BatchBytes, Cursor, cursor_reply, new_cursor_id, open_cursor
from ..errors import CommandError
from ..state import OplogEntry, ServerState
from . import change_stream_split as split_event


def _token(seq: int, index: int) -> dict[str, Any]:
    return {"_data": f"{seq:016X}{index:08X}"}


def _parse_token(token: Any) -> tuple[int, int]:
    data = token.get("_data") if isinstance(token, dict) else None
    # 24 hex digits; a split event's fragment appends 4 more (change_stream_split.py).
    if not isinstance(data, str) or len(data) not in (24, 28):
        raise CommandError(260, "Invalid resume token: the sandbox cannot decode it")
    try:
        return int(data[:16], 16), int(data[16:24], 16)
    except ValueError as exc:
        raise CommandError(260, "Invalid resume token") from exc


# An invalidate event's token: its index has this bit (see _pending).
_INVALIDATE_INDEX = 1 << 20


def _is_invalidate_token(token: Any) -> bool:
    _, index = _parse_token(token)
    return _INVALIDATE_INDEX <= index < 1 << 31


# Shown without showExpandedEvents; the rest (create, createIndexes, …) only with it.
_BASIC_EVENTS = frozenset(
    {"insert", "update", "replace", "delete", "drop", "rename", "dropDatabase"}
)
# Stages a change stream pipeline may contain (manual: "Modify Change Stream Output").
_ALLOWED_STAGES = frozenset(
    {
        "$match",
        "$project",
        "$addFields",
        "$set",
        "$unset",
        "$replaceRoot",
        "$replaceWith",
        "$redact",
    }
)


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
        self.before_change = options.get("fullDocumentBeforeChange", "off")
        self.show_expanded = bool(options.get("showExpandedEvents"))
        # Internal: a chunk migration's writes too (a stream on a shard only; the router
        # refuses it) [srv:db/pipeline/document_source_change_stream.idl].
        self.show_migrations = bool(options.get("showMigrationEvents"))
        self.position: tuple[int, int] = (state.clock.now(), 1 << 31)
        self.invalidated = False
        token = options.get("resumeAfter") or options.get("startAfter")
        # $changeStreamSplitLargeEvent: split events over the limit; resuming from a
        # fragment replays its event and skips the fragments up to the token's.
        self.splits = bool(options.get("splitLargeEvent"))
        self.resume_split: tuple[tuple[int, int], int] | None = None
        if token is not None:
            self.position = _parse_token(token)
            fragment = split_event.token_fragment(token)
            if fragment is not None:
                self.resume_split = (self.position, fragment + 1)
                self.position = (self.position[0], self.position[1] - 1)
        elif isinstance(options.get("startAtOperationTime"), Timestamp):
            self.position = (ts_to_int(options["startAtOperationTime"]) - 1, 1 << 31)
        self.last_token = _token(*self.position)

    def resume_token(self) -> dict[str, Any]:
        return self.last_token

    def _wanted(self, entry: OplogEntry) -> bool:
        if entry.from_migrate and not self.show_migrations:
            # A migration moved the document; nothing was written [srv:db/pipeline/
            # document_source_change_stream_oplog_match.cpp buildOplogMatchFilter adds
            # change_stream_filter_helpers.cpp buildNotFromMigrateFilter unless
            # showMigrationEvents].
            return False
        if self.db is not None and entry.db != self.db:
            return False
        if self.coll is not None and entry.coll != self.coll:
            return False
        return entry.op in _BASIC_EVENTS or self.show_expanded

    def _invalidates(self, entry: OplogEntry) -> bool:
        if self.coll is not None:
            return entry.op in ("drop", "rename")
        return self.db is not None and entry.op == "dropDatabase"

    def _event(self, entry: OplogEntry, index: int) -> dict[str, Any]:
        op = entry.op
        event: dict[str, Any] = {
            "_id": _token(entry.seq, index),
            "operationType": op,
            "clusterTime": int_to_ts(entry.seq),
            "wallTime": datetime.fromtimestamp(entry.wall, UTC).replace(tzinfo=None),
            "ns": {"db": entry.db, "coll": entry.coll} if entry.coll else {"db": entry.db},
        }
        coll = self.state.catalog.get(entry.db, entry.coll) if entry.coll else None
        uuid = entry.uuid or (coll.uuid if coll is not None else None)
        if uuid is not None and self.show_expanded:
            event["collectionUUID"] = uuid
        if op in ("insert", "update", "replace", "delete"):
            event["documentKey"] = {"_id": entry.doc_id}
        if op in ("insert", "replace"):
            event["fullDocument"] = entry.doc
        if op == "update":
            desc = dict(entry.update_description or {})
            desc.setdefault("updatedFields", {})
            desc.setdefault("removedFields", [])
            desc.setdefault("truncatedArrays", [])
            if not self.show_expanded:
                desc.pop("disambiguatedPaths", None)
            event["updateDescription"] = desc
            if self.full_document == "updateLookup":
                event["fullDocument"] = coll.committed(entry.key, None) if coll else None
            elif self.full_document in ("whenAvailable", "required"):
                event["fullDocument"] = self._image(entry, entry.doc, self.full_document)
        if op in ("update", "replace", "delete") and self.before_change in (
            "whenAvailable",
            "required",
        ):
            event["fullDocumentBeforeChange"] = self._image(
                entry, entry.pre_image, self.before_change
            )
        if entry.extra:
            if "to" in entry.extra:
                event["to"] = entry.extra["to"]
            if self.show_expanded and "operationDescription" in entry.extra:
                event["operationDescription"] = entry.extra["operationDescription"]
        if entry.lsid is not None:
            event["lsid"] = entry.lsid
            event["txnNumber"] = Int64(entry.txn_number or 0)
        return event

    @staticmethod
    def _image(entry: OplogEntry, image: dict[str, Any] | None, mode: str) -> dict[str, Any] | None:
        """Pre- and post-images exist only where changeStreamPreAndPostImages was enabled."""
        if entry.images and image is not None:
            return image
        if mode == "required":
            raise CommandError(
                280,
                "Change stream was configured to require a post-image or pre-image for all "
                "update, delete and replace events, but none was found "
                "(enable changeStreamPreAndPostImages on the collection)",
                labels=["NonResumableChangeStreamError"],
                code_name_override="ChangeStreamFatalError",
            )
        return None

    def _apply_pipeline(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        return self._split(self._transform(event))

    def _split(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Large events as fragments when the stream asked for them, else refused."""
        out: list[dict[str, Any]] = []
        for event in events:
            if not self.splits:
                split_event.check_size(event)
                out.append(event)
                continue
            skip = 0
            if self.resume_split is not None:
                point, skip = self.resume_split
                self.resume_split = None
                if _parse_token(event["_id"]) != point:
                    skip = 0
            if len(bson.encode(event)) <= split_event.MAX_EVENT_SIZE:
                if skip:
                    raise CommandError(
                        280,
                        "Attempted to resume from a split event fragment, but the event in the "
                        "resumed stream was not large enough to be split",
                        labels=["NonResumableChangeStreamError"],
                        code_name_override="ChangeStreamFatalError",
                    )
                out.append(event)
                continue
            fragments = split_event.split(event, skip)
            if not fragments:
                raise CommandError(
                    280,
                    "Attempted to resume from a split event, but the resumed stream produced a "
                    "different split. Ensure that the pipeline used to resume is the same as the "
                    "original",
                    labels=["NonResumableChangeStreamError"],
                    code_name_override="ChangeStreamFatalError",
                )
            out.extend(fragments)
            self.last_token = fragments[-1]["_id"]
        return out

    def _transform(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.pipeline:
            return [event]
        try:
            result = engine.run_pipeline([event], self.pipeline)
        except engine.EngineError as exc:
            raise engine_error(exc) from exc
        for out in result:
            if out.get("_id") != event["_id"]:
                raise CommandError(
                    280,
                    "Encountered an event whose _id field, which contains the resume token, was "
                    "modified by the pipeline. Modifying the _id field of an event makes it "
                    "impossible to resume the stream from that point. Only transformations that "
                    "retain the unmodified _id field are allowed.",
                    labels=["NonResumableChangeStreamError"],
                    code_name_override="ChangeStreamFatalError",
                )
        return result

    def _pending(self, limit: int | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.invalidated:
            return out
        # Events fill a batch up to 16 MiB like documents do; the one that would cross it
        # stays for the next getMore (cursors.MAX_BATCH_BYTES).
        size = BatchBytes()
        seq0, idx0 = self.position
        last_seq, index = None, 0
        # A member of a multi-member set reports only majority-committed changes (manual:
        # Change Streams, "Availability"): none past its majority commit point.
        replica = self.state.replica
        horizon = replica.change_horizon() if replica is not None else None
        for entry in self.state.oplog:
            if horizon is not None and entry.seq > horizon:
                break
            if entry.seq != last_seq:
                last_seq, index = entry.seq, 0
            else:
                index += 1
            if (entry.seq, index) <= (seq0, idx0) or not self._wanted(entry):
                continue
            event = self._event(entry, index)
            before = self.last_token, self.resume_split
            self.last_token = event["_id"]
            outs = self._apply_pipeline(event)  # a split event's fragments move last_token on
            fits = 0
            while fits < len(outs) and size.add(outs[fits]):
                fits += 1
            if fits < len(outs):
                # The next getMore starts with what did not fit: the event, or the rest of
                # its fragments (resumed as from the last fragment sent).
                self.last_token, self.resume_split = before
                if fits:
                    point = (entry.seq, index)
                    done = before[1][1] if before[1] and before[1][0] == point else 0
                    out.extend(outs[:fits])
                    self.last_token = outs[fits - 1]["_id"]
                    self.resume_split = (point, done + fits)
                    self.position = (entry.seq, index - 1)
                break
            self.position = (entry.seq, index)
            out.extend(outs)
            if self._invalidates(entry):
                invalidate = {
                    "_id": _token(entry.seq, index + _INVALIDATE_INDEX),
                    "operationType": "invalidate",
                    "clusterTime": int_to_ts(entry.seq),
                    "wallTime": event["wallTime"],
                }
                self.last_token = invalidate["_id"]
                out.extend(self._apply_pipeline(invalidate))
                self.invalidated = True
                break
            if limit and len(out) >= limit:
                break
        if not out:
            now = self.state.clock.now() if horizon is None else horizon
            self.position = max(self.position, (now, 1 << 31))
            self.last_token = _token(*self.position)
        return out

    async def next_batch(self, batch_size: Any, wait_seconds: float) -> list[dict[str, Any]]:
        limit = batch_size if isinstance(batch_size, int) and batch_size > 0 else None
        batch = self._pending(limit)
        if batch or wait_seconds <= 0 or self.invalidated:
            return batch
        deadline = time.monotonic() + wait_seconds
        while not batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self.state.oplog_event
            assert event is not None
            try:
                await waits.within(event.wait(), remaining)
            except TimeoutError:
                pass
            batch = self._pending(limit)
        return batch


def _check_pipeline(pipeline: list[dict[str, Any]]) -> None:
    """A known stage a change stream does not allow is IllegalOperation
    [srv:db/pipeline/pipeline.cpp validateCommon, "is not permitted in a $changeStream
    pipeline"; jstests prepare_conflict_aggregation_behavior.js, $out after it]."""
    for stage in pipeline:
        name = next(iter(stage))
        if name not in _ALLOWED_STAGES:
            raise CommandError(
                40324 if not name.startswith("$") or name not in _KNOWN_STAGES else 20,
                f"Unrecognized pipeline stage name: '{name}'"
                if name not in _KNOWN_STAGES
                else f"{name} is not permitted in a $changeStream pipeline",
            )


_KNOWN_STAGES = frozenset(
    {
        "$group",
        "$sort",
        "$limit",
        "$skip",
        "$lookup",
        "$unwind",
        "$count",
        "$out",
        "$merge",
        "$facet",
        "$bucket",
        "$sortByCount",
        "$sample",
        "$graphLookup",
        "$unionWith",
    }
)


def _check_read_concern(body: dict[str, Any]) -> None:
    """A change stream reads at majority: an explicit other level is refused
    [srv:db/pipeline/document_source_change_stream.h supportsReadConcern,
    lite_parsed_document_source.h onlySingleReadConcernSupported]."""
    read_concern = body.get("readConcern")
    level = read_concern.get("level") if isinstance(read_concern, dict) else None
    if level is not None and level != "majority":
        raise CommandError(
            72,
            "Aggregation stage $changeStream cannot run with a readConcern other than "
            f"'majority'. Current readConcern: {level}",
        )


async def open_change_stream(
    ctx: OpContext, body: dict[str, Any], pipeline: list[dict[str, Any]], first_batch: int | None
) -> dict[str, Any]:
    if ctx.state.replset is None:
        raise CommandError(40573, "The $changeStream stage is only supported on replica sets")
    if next(iter(pipeline[0])) != "$changeStream":
        raise CommandError(40602, "$changeStream is only valid as the first stage in a pipeline.")
    options = pipeline[0]["$changeStream"]
    if not isinstance(options, dict):
        # [srv:db/pipeline/document_source_change_stream.cpp createFromBson]
        raise CommandError(50808, "$changeStream stage expects a document as argument")
    target = body.get("aggregate")
    if options.get("allChangesForCluster"):
        if ctx.db != "admin":
            raise CommandError(40571, "allChangesForCluster is only valid on the admin database")
        db, coll = None, None
    elif target == 1:
        db, coll = ctx.db, None
    else:
        db, coll = ctx.db, target
    _check_read_concern(body)
    if options.get("resumeAfter") is not None and _is_invalidate_token(options["resumeAfter"]):
        # [srv:db/pipeline/document_source_change_stream.cpp: only startAfter may resume
        # after an invalidate event]
        raise CommandError(
            260,
            "Attempting to resume a change stream using 'resumeAfter' is not allowed from an "
            "invalidate notification.",
            code_name_override="InvalidResumeToken",
        )
    stages, splits = split_event.take_stage(pipeline[1:])
    _check_pipeline(stages)
    token = options.get("resumeAfter") or options.get("startAfter")
    if not splits and token is not None and split_event.token_fragment(token) is not None:
        raise CommandError(
            280,
            "To resume from a split event, the $changeStream pipeline must include a "
            "$changeStreamSplitLargeEvent stage",
            labels=["NonResumableChangeStreamError"],
            code_name_override="ChangeStreamFatalError",
        )
    stream = ChangeStream(ctx.state, db, coll, stages, {**options, "splitLargeEvent": splits})
    batch = stream._pending(first_batch or None) if first_batch else []
    ns = f"{ctx.db}.{target if isinstance(target, str) else '$cmd.aggregate'}"
    _, cid = open_cursor(
        ctx.state,
        ns,
        [],
        first_batch=None,
        single_batch=False,
        lsid_key=ctx.session_key,
        extra={"change_stream": stream},
    )
    if cid == 0:
        # An empty result closes a cursor; a change stream stays open: register it.

        cid = new_cursor_id(ctx.state)
        ctx.state.cursors[cid] = Cursor(
            cid,
            ns,
            [],
            lsid_key=ctx.session_key,
            extra={"change_stream": stream},
        )
    return cursor_reply(ns, batch, cid, True, postBatchResumeToken=stream.resume_token())

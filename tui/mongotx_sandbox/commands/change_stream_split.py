"""$changeStreamSplitLargeEvent (MongoDB 7.0+): a change event larger than a document may be
is returned as fragments, each with `splitEvent: {fragment, of}` and its own resume token
(manual: "$changeStreamSplitLargeEvent"; server: db/pipeline/
document_source_change_stream_split_large_event.cpp, change_stream_split_event_helpers.cpp)."""

from __future__ import annotations

from typing import Any

import bson

from ..engine.fmt import shell
from ..errors import CommandError

STAGE = "$changeStreamSplitLargeEvent"
# Events up to this size are returned whole (kBSONObjMaxChangeEventSize: the internal BSON
# limit, 16 MB + 16 KB, less 8 KB kept for the rest of the reply).
MAX_EVENT_SIZE = 16 * 1024 * 1024 + 16 * 1024 - 8 * 1024
# Without the stage a larger event fails the cursor, as any document over the BSON limit
# (BSONObjMaxInternalSize) does.
BSON_INTERNAL_LIMIT = 16 * 1024 * 1024 + 16 * 1024


def take_stage(pipeline: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The pipeline without the split stage, and whether it had one (refused, as mongod
    does, unless it is `{}` and the last stage)."""
    names = [next(iter(stage)) for stage in pipeline]
    if STAGE not in names:
        return pipeline, False
    spec = pipeline[names.index(STAGE)][STAGE]
    if not isinstance(spec, dict) or spec:
        raise CommandError(7182800, f"{STAGE} spec should be an empty object")
    # A second split stage fails as the first one is not last (pipeline.cpp validateCommon
    # checks positions before single use).
    if names[-1] != STAGE or names.count(STAGE) > 1:
        raise CommandError(7182802, f"{STAGE} must be the last stage in the pipeline")
    return pipeline[:-1], True


def fragment_token(token: dict[str, Any], fragment: int) -> dict[str, Any]:
    """A fragment's resume token: the event's, with the fragment number appended."""
    return {"_data": f"{token['_data'][:24]}{fragment:04X}"}


def token_fragment(token: Any) -> int | None:
    """The fragment number a resume token names, None for a whole event's token."""
    data = token.get("_data") if isinstance(token, dict) else None
    if isinstance(data, str) and len(data) == 28:
        try:
            return int(data[24:], 16)
        except ValueError:
            return None
    return None


def _field_size(name: str, value: Any) -> int:
    return len(bson.encode({name: value})) - 5


def split(event: dict[str, Any], skip: int) -> list[dict[str, Any]]:
    """The fragments of `event` after the first `skip`: fields ordered by size then name,
    each fragment filled greedily up to the limit (at least one field each)."""
    token = event["_id"]
    limit = MAX_EVENT_SIZE - len(bson.encode(token))
    fields = sorted(
        ((_field_size(k, v), k, v) for k, v in event.items() if k != "_id"),
        key=lambda t: (t[0], t[1]),
    )
    if not fields:
        raise CommandError(
            7182502, "Cannot split an empty event or an event containing solely '_id' field"
        )
    fragments: list[dict[str, Any]] = []
    i = 0
    while i < len(fields):
        fragment: dict[str, Any] = {
            "_id": fragment_token(token, len(fragments)),
            "splitEvent": {"fragment": len(fragments) + 1, "of": 0},
        }
        size = len(bson.encode(fragment))
        while True:
            field_size, name, value = fields[i]
            fragment[name] = value
            size += field_size
            i += 1
            if i == len(fields) or size + fields[i][0] > limit:
                break
        if size > limit:
            raise CommandError(
                7182500,
                f"Splitting change event failed: fragment size {size} is greater than maximum "
                f"allowed fragment size {limit}",
            )
        fragments.append(fragment)
    for fragment in fragments:
        fragment["splitEvent"]["of"] = len(fragments)
    return fragments[skip:]


def check_size(event: dict[str, Any]) -> None:
    """An event over the BSON limit fails the stream when nothing splits it."""
    size = len(bson.encode(event))
    if size > BSON_INTERNAL_LIMIT:
        raise CommandError(
            10334,
            f"BSONObj size: {size} (0x{size:X}) is invalid. Size must be between 0 and "
            f"{BSON_INTERNAL_LIMIT}(16MB) First element: _id: {shell(event['_id'])}",
            code_name_override="BSONObjectTooLarge",
        )

"""A view's pipeline is checked when the view is created, as mongod parses it then
[srv:db/views/view_catalog_helpers.cpp validatePipeline]."""

from __future__ import annotations

from typing import Any

from .. import engine
from ..access import engine_error
from ..errors import CommandError

# Stages that write, and those that read no collection, can't define a view.
_WRITES = ("$out", "$merge")
_COLLECTIONLESS = ("$documents", "$currentOp", "$listLocalSessions", "$listSessions")
# Stages the server, not the query engine, would run: nothing more to check here.
_SERVER_STAGES = (
    "$collStats",
    "$indexStats",
    "$planCacheStats",
    "$listSearchIndexes",
    "$search",
    "$searchMeta",
    "$vectorSearch",
    "$listSampledQueries",
    "$changeStreamSplitLargeEvent",
)


def check_view_pipeline(db: str, name: str, pipeline: list[Any]) -> None:
    """Refuse a pipeline mongod would not accept as a view definition."""
    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise CommandError(
                40323, "A pipeline stage specification object must contain exactly one field."
            )
    names = [next(iter(stage)) for stage in pipeline]
    for i, stage_name in enumerate(names):
        if stage_name in _WRITES:
            raise CommandError(
                167,
                f"The aggregation stage {stage_name} in location {i} of the pipeline cannot be "
                f"used in the view definition of {db}.{name} because it writes to disk",
            )
    if names and names[0] == "$changeStream":
        raise CommandError(167, "$changeStream cannot be used in a view definition")
    for stage_name in names:
        if stage_name in _COLLECTIONLESS:
            raise CommandError(73, f"'{stage_name}' cannot be used in a view definition")
    # The rest must parse: run it over no documents (each stage checks its specification).
    rest = [stage for stage, n in zip(pipeline, names, strict=True) if n not in _SERVER_STAGES]
    try:
        engine.run_pipeline([], rest, lookup=lambda _name: [])
    except engine.EngineError as exc:
        raise engine_error(exc) from exc

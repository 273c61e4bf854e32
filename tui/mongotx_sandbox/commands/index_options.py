"""createIndexes: the options mongod checks before building an index (partial filters,
collation, text indexes), and the text index's stored form."""

from __future__ import annotations

import re
from typing import Any

from bson.regex import Regex

from .. import engine
from ..access import engine_error
from ..engine.fmt import shell
from ..errors import CommandError

# Languages a text index accepts for default_language, with their ISO codes
# [srv:db/fts/fts_language.cpp, the text search languages; manual, "Text Search Languages"].
_TEXT_LANGUAGES = frozenset(
    "none danish dutch english finnish french german hungarian italian norwegian portuguese "
    "romanian russian spanish swedish turkish da nl en fi fr de hu it nb pt ro ru es sv tr".split()
)
# Operators a partial filter may use on a field, after the parse (which refuses unknown
# ones) [srv:db/catalog/index_catalog_impl.cpp _checkValidFilterExpressions: EQ, LT, LTE, GT,
# GTE, EXISTS, TYPE_OPERATOR, MATCH_IN, GEO; AND and OR; manual, "Partial Indexes"].
_PARTIAL_FIELD_OPS = frozenset(
    {"$eq", "$lt", "$lte", "$gt", "$gte", "$exists", "$type", "$in", "$geoWithin", "$geoIntersects"}
)
# Query features the parse refuses in a partial filter (kBanAllSpecialFeatures).
_BANNED_FEATURES = ("$expr", "$where", "$text", "$jsonSchema", "$near", "$nearSphere")


def _spec_error(spec: dict[str, Any], code: int, message: str) -> CommandError:
    """mongod adds the spec as context to what validateIndexSpec and _isSpecOk refuse
    [srv:db/commands/create_indexes.cpp parseAndValidateIndexSpecs; IndexCatalogImpl::
    prepareSpecForCreate]."""
    return CommandError(code, f"Error in specification {shell(spec)} :: caused by :: {message}")


def check_options(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as mongod stores it, or the error it answers (issue 17)."""
    if "collation" in spec:
        _check_collation(spec)
    if "partialFilterExpression" in spec:
        _check_partial_filter(spec)
    if any(v == "text" for v in spec["key"].values()):
        return text_spec(spec)
    return spec


def _check_collation(spec: dict[str, Any]) -> None:
    # [srv:db/catalog/index_key_validate.cpp validateIndexSpec, kCollationFieldName]
    collation = spec["collation"]
    if not isinstance(collation, dict):
        raise _spec_error(
            spec,
            14,
            f"The field 'collation' must be an object, but got {engine.type_name(collation)}",
        )
    if not collation:
        raise _spec_error(spec, 2, "The field 'collation' cannot be an empty object.")
    try:
        engine.check_collation(collation)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc


def _check_partial_filter(spec: dict[str, Any]) -> None:
    """Type, then the parse (unknown operators), then the expressions a partial index allows
    [srv:db/catalog/index_key_validate.cpp validateIndexSpec, kPartialFilterExprFieldName;
    index_catalog_impl.cpp _isSpecOk]."""
    expr = spec["partialFilterExpression"]
    if not isinstance(expr, dict):
        raise _spec_error(
            spec,
            14,
            "The field 'partialFilterExpression' must be an object, but got "
            f"{engine.type_name(expr)}",
        )
    for feature in _BANNED_FEATURES:
        if _mentions(expr, feature):
            raise _spec_error(spec, 224, f"{feature} is not allowed in this context")
    try:
        engine.matches(expr, {})
    except engine.EngineError as exc:
        raise _spec_error(spec, exc.code, exc.message) from exc
    if spec.get("sparse"):
        raise _spec_error(spec, 67, 'cannot mix "partialFilterExpression" and "sparse" options')
    refused = _unsupported(expr)
    if refused is not None:
        raise _spec_error(spec, 67, f"Expression not supported in partial index: {refused}")


def _mentions(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return any(k == name or _mentions(v, name) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, name) for v in value)
    return False


def _unsupported(expr: dict[str, Any]) -> str | None:
    """The first clause a partial filter may not hold, rendered for the message; None when
    every clause is allowed."""
    for key, value in expr.items():
        if key in ("$and", "$or"):
            for sub in value:
                refused = _unsupported(sub)
                if refused is not None:
                    return refused
        elif key == "$comment":
            continue
        elif key.startswith("$"):
            return f"{key} {shell(value)}"
        elif isinstance(value, Regex | re.Pattern):
            return f"{key} regex {shell(value)}"
        elif isinstance(value, dict) and value and next(iter(value)).startswith("$"):
            for op, arg in value.items():
                if op not in _PARTIAL_FIELD_OPS or (op == "$exists" and not arg):
                    return f"{key} {op} {shell(arg)}"
    return None


def text_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A text index's stored spec: the text fields become `_fts: "text", _ftsx: 1` and their
    weights, with the default language options [srv:db/fts/fts_spec.cpp FTSSpec::fixSpec]."""
    weights: dict[str, int] = {}
    key: dict[str, Any] = {}
    seen_text = ended_text = False
    for field, value in spec["key"].items():
        if field in ("_fts", "_ftsx"):
            raise _spec_error(spec, 67, "text index with reserved fields _fts/_ftsx not allowed")
        if value == "text":
            if ended_text:
                raise _spec_error(spec, 67, "'text' fields in index must all be adjacent")
            if not seen_text:
                key.update({"_fts": "text", "_ftsx": 1})
            seen_text = True
            weights[field] = 1
            continue
        if seen_text:
            ended_text = True
        if isinstance(value, bool) or value not in (1, -1):
            raise _spec_error(spec, 67, "expected value 1 or -1 for non-text key in compound index")
        key[field] = value
    given = spec.get("weights")
    if isinstance(given, dict):
        for field, weight in given.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise _spec_error(spec, 67, "weight for text index needs numeric type")
            weights[field] = int(weight)
    elif given == "$**":
        weights["$**"] = 1
    elif given is not None:
        raise _spec_error(spec, 67, "text index option 'weights' must be an object")
    for weight in weights.values():
        if not 0 < weight < 1_000_000_000:
            raise _spec_error(
                spec,
                67,
                "text index weight must be in the exclusive interval (0,1000000000) but found: "
                f"{weight}",
            )
    language = spec.get("default_language", "english")
    if not isinstance(language, str) or language not in _TEXT_LANGUAGES:
        raise _spec_error(spec, 67, "default_language is not valid")
    override = spec.get("language_override", "language")
    if not isinstance(override, str) or not override:
        raise _spec_error(spec, 67, "language_override is not valid")
    version = spec.get("textIndexVersion", 3)
    if version not in (2, 3) or isinstance(version, bool):
        raise _spec_error(spec, 67, f"bad textIndexVersion: {version}")
    out = {
        k: v
        for k, v in spec.items()
        if k not in ("weights", "default_language", "language_override", "textIndexVersion")
    }
    out["key"] = key
    out["weights"] = dict(sorted(weights.items()))
    out["default_language"] = language
    out["language_override"] = override
    out["textIndexVersion"] = int(version)
    return out


def is_text_key(key: dict[str, Any]) -> bool:
    """A text index's stored key pattern holds `_fts: "text"`."""
    return key.get("_fts") == "text"

"""Run one OpSpec with pymongo, and turn pymongo errors into ErrorInfo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.errors import CODE_NAMES, ErrorInfo
from ..model.ops import OpKind, OpSpec, summarize

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession
    from pymongo.asynchronous.database import AsyncDatabase

FIND_LIMIT = 1000  # a find in the workbench returns at most this many documents


def _sort(value: dict[str, Any] | None) -> list[tuple[str, Any]] | None:
    return list(value.items()) if value else None


async def execute(
    db: AsyncDatabase[dict[str, Any]], spec: OpSpec, session: AsyncClientSession | None
) -> tuple[Any, str]:
    """Run the operation; return (result, summary). Raises pymongo errors."""
    from pymongo import ReturnDocument

    v = spec.values()
    kind = spec.kind
    if kind is OpKind.COMMAND:
        result: Any = await db.command(v["command"], session=session)
        return result, summarize(kind, result)
    coll = db[spec.collection.strip()]
    s = {"session": session}
    if kind is OpKind.INSERT:
        result = await coll.insert_one(v["document"], **s)
    elif kind is OpKind.INSERT_MANY:
        result = await coll.insert_many(v["documents"], **s)
    elif kind is OpKind.UPDATE:
        result = await coll.update_one(v["filter"], v["update"], upsert=v["upsert"], **s)
    elif kind is OpKind.UPDATE_MANY:
        result = await coll.update_many(v["filter"], v["update"], upsert=v["upsert"], **s)
    elif kind is OpKind.REPLACE:
        result = await coll.replace_one(v["filter"], v["replacement"], upsert=v["upsert"], **s)
    elif kind is OpKind.DELETE:
        result = await coll.delete_one(v["filter"], **s)
    elif kind is OpKind.DELETE_MANY:
        result = await coll.delete_many(v["filter"], **s)
    elif kind is OpKind.FIND:
        limit = v["limit"] if v["limit"] else FIND_LIMIT
        cursor = coll.find(v["filter"], v["projection"], sort=_sort(v["sort"]), **s)
        result = await cursor.limit(min(limit, FIND_LIMIT)).to_list()
    elif kind is OpKind.FIND_ONE:
        result = await coll.find_one(v["filter"], v["projection"], sort=_sort(v["sort"]), **s)
    elif kind in (OpKind.FIND_ONE_AND_UPDATE, OpKind.FIND_ONE_AND_REPLACE):
        if kind is OpKind.FIND_ONE_AND_UPDATE:
            method, change = coll.find_one_and_update, v["update"]
        else:
            method, change = coll.find_one_and_replace, v["replacement"]
        result = await method(
            v["filter"],
            change,
            projection=v["projection"],
            sort=_sort(v["sort"]),
            upsert=v["upsert"],
            return_document=ReturnDocument.AFTER if v["after"] else ReturnDocument.BEFORE,
            **s,
        )
    elif kind is OpKind.FIND_ONE_AND_DELETE:
        result = await coll.find_one_and_delete(
            v["filter"], projection=v["projection"], sort=_sort(v["sort"]), **s
        )
    elif kind is OpKind.AGGREGATE:
        result = await (await coll.aggregate(v["pipeline"], **s)).to_list(FIND_LIMIT)
    elif kind is OpKind.COUNT:
        result = await coll.count_documents(v["filter"], **s)
    elif kind is OpKind.DISTINCT:
        result = await coll.distinct(v["key"], v["filter"], **s)
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(kind)
    return result, summarize(kind, result)


def error_info(exc: BaseException, scrub: Any = None) -> ErrorInfo:
    """What the user needs to see of an exception: code, codeName, message, labels."""
    from pymongo.errors import (
        BulkWriteError,
        ConnectionFailure,
        InvalidOperation,
        OperationFailure,
        PyMongoError,
    )

    clean = scrub or (lambda s: s)
    labels: tuple[str, ...] = ()
    if isinstance(exc, PyMongoError):
        labels = tuple(sorted(getattr(exc, "_error_labels", ()) or ()))
    if isinstance(exc, BulkWriteError):
        errors = (exc.details or {}).get("writeErrors") or [{}]
        first = errors[0]
        code = first.get("code", exc.code)
        name = first.get("codeName") or CODE_NAMES.get(code, "BulkWriteError")
        return ErrorInfo(code, name, clean(first.get("errmsg", str(exc))), labels)
    if isinstance(exc, OperationFailure):
        details = exc.details or {}
        code = exc.code
        name = details.get("codeName") or CODE_NAMES.get(code or -1, type(exc).__name__)
        message = details.get("errmsg") or str(exc)
        return ErrorInfo(code, name, clean(message), labels)
    if isinstance(exc, ConnectionFailure):
        return ErrorInfo(None, type(exc).__name__, clean(str(exc)), labels, client_side=True)
    if isinstance(exc, InvalidOperation):
        return ErrorInfo(None, "InvalidOperation", clean(str(exc)), labels, client_side=True)
    if isinstance(exc, PyMongoError):
        return ErrorInfo(None, type(exc).__name__, clean(str(exc)), labels, client_side=True)
    return ErrorInfo(None, type(exc).__name__, clean(str(exc)), labels, client_side=True)

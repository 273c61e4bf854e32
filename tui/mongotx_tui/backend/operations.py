"""Run one OpSpec with pymongo, and turn pymongo errors into ErrorInfo."""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

# One table of MongoDB's code names (base/error_codes.yml), the sandbox's: the pure model
# stays free of the server package, and the backend may start the sandbox anyway.
from mongotx_sandbox.errors import CODE_NAMES

from ..model.error_info import ErrorInfo
from ..model.ops import OpKind, OpSpec, driver_call, summarize

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession
    from pymongo.asynchronous.database import AsyncDatabase

FIND_LIMIT = 1000  # a find in the workbench returns at most this many documents


async def execute(
    db: AsyncDatabase[dict[str, Any]],
    spec: OpSpec,
    session: AsyncClientSession | None,
    values: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    """Run the operation; return (result as plain documents, summary). Raises pymongo errors.

    The call comes from model.ops.driver_call, the table the export writes code from.
    `values`: the spec's parsed fields, when the caller parsed them already (so that the
    time it measures around this call is the server's round trip, not the parsing)."""
    from pymongo import ReturnDocument

    v = values if values is not None else spec.values()
    kind = spec.kind
    call = driver_call(kind, v)
    target: Any = db if kind is OpKind.COMMAND else db[spec.collection.strip()]
    if call.database is not None:  # a command given its own database (admin, ...)
        target = db.client[call.database]
    args = list(call.args)
    if kind is OpKind.INSERT:  # pymongo adds _id to what it is given: give it a copy
        args[0] = dict(args[0])
    elif kind is OpKind.INSERT_MANY:
        args[0] = [dict(d) if isinstance(d, dict) else d for d in args[0]]
    if call.concerns:  # the operation's own write / read concern (model.op_options)
        target = target.with_options(**concerns(call.concerns))
    options = dict(call.options)
    if "return_document" in options:
        options["return_document"] = getattr(ReturnDocument, options["return_document"])
    if kind is OpKind.FIND:  # the workbench shows at most FIND_LIMIT documents
        options["limit"] = min(options.get("limit") or FIND_LIMIT, FIND_LIMIT)
    result = getattr(target, call.method)(*args, session=session, **options)
    if inspect.isawaitable(result):  # find gives its cursor at once, the others on await
        result = await result
    if call.listed:
        result = await result.to_list(FIND_LIMIT)
    result = plain(result)
    return result, summarize(kind, result)


def concerns(parts: dict[str, Any]) -> dict[str, Any]:
    """DriverCall.concerns as pymongo's objects, for with_options."""
    from pymongo import WriteConcern
    from pymongo.read_concern import ReadConcern

    out: dict[str, Any] = {}
    if "write_concern" in parts:
        out["write_concern"] = WriteConcern(**parts["write_concern"])
    if "read_concern" in parts:
        out["read_concern"] = ReadConcern(parts["read_concern"])
    return out


def plain(result: Any) -> Any:
    """pymongo's result objects as the documents the scenario files name them by, so that
    what is kept of a step (journal, checks, saved scenarios) is data, not driver objects."""
    from pymongo.results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

    if getattr(result, "acknowledged", True) is False:  # w: 0: no counts to read
        out: dict[str, Any] = {"acknowledged": False}
        if isinstance(result, InsertOneResult):
            out["insertedId"] = result.inserted_id
        return out
    if isinstance(result, InsertOneResult):
        return {"insertedId": result.inserted_id}
    if isinstance(result, InsertManyResult):
        return {"insertedIds": list(result.inserted_ids)}
    if isinstance(result, UpdateResult):
        out = {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}
        if result.upserted_id is not None:
            out["upsertedId"] = result.upserted_id
        return out
    if isinstance(result, DeleteResult):
        return {"deletedCount": result.deleted_count}
    return result


_TIMEOUTS = re.compile(r" \(configured timeouts: [^)]*\)")


def _cause(text: str) -> str:
    """The readable part of a pymongo network message: no timeouts list, no topology."""
    text = text.split(", Timeout:", 1)[0].split(", Topology Description:", 1)[0]
    return _TIMEOUTS.sub("", text).strip()


def error_info(exc: BaseException, scrub: Any = None, txn_aborted: bool | None = None) -> ErrorInfo:
    """What the user needs to see of an exception: the server's code, codeName and errmsg
    when there was a reply (whatever pymongo class carries it), else a plain sentence;
    never a repr. `txn_aborted`: for a transaction's statement, whether the server aborted
    the transaction after it."""
    from pymongo.errors import (
        AutoReconnect,
        BulkWriteError,
        ConnectionFailure,
        InvalidOperation,
        NetworkTimeout,
        PyMongoError,
        ServerSelectionTimeoutError,
        WriteConcernError,
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
        message = clean(first.get("errmsg") or "the bulk write failed")
        return ErrorInfo(code, name, message, labels, txn_aborted=txn_aborted)
    # A server reply: OperationFailure and its subclasses, and NotPrimaryError (an
    # AutoReconnect, i.e. a ConnectionFailure, that carries the reply in `details`).
    details = getattr(exc, "details", None)
    code = details.get("code") if isinstance(details, dict) else None
    if code is None:
        code = getattr(exc, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        d = details if isinstance(details, dict) else {}
        name = d.get("codeName") or CODE_NAMES.get(code) or "error"
        message = d.get("errmsg") or _first_line(exc) or name
        return ErrorInfo(
            code,
            str(name),
            clean(str(message)),
            labels,
            write_concern=isinstance(exc, WriteConcernError),
            txn_aborted=txn_aborted,
        )
    text = clean(_cause(_first_line(exc)))
    no_reply = (  # no server reply: a plain sentence (subclasses before their bases)
        (ServerSelectionTimeoutError, "no server available", "No server answered within the server selection timeout"),
        (NetworkTimeout, "network timeout", "The server did not answer in time"),
        (AutoReconnect, "connection lost", "The connection to the server was lost"),
        (ConnectionFailure, "cannot connect", "Cannot connect to the server"),
    )  # fmt: skip
    for cls, headline, message in no_reply:
        if isinstance(exc, cls):
            message = f"{message}: {text}" if text else message
            return ErrorInfo(None, headline, message, labels, True)
    if isinstance(exc, InvalidOperation):
        return ErrorInfo(None, "refused by the driver", text, labels, client_side=True)
    if isinstance(exc, PyMongoError):
        return ErrorInfo(None, "driver error", text, labels, client_side=True)
    return ErrorInfo(None, type(exc).__name__, text, labels, client_side=True)


def _first_line(exc: BaseException) -> str:
    """The exception's message without pymongo's ", full error: {...}" dump."""
    text = str(exc.args[0]) if exc.args and isinstance(exc.args[0], str) else str(exc)
    return text.split(", full error:", 1)[0].strip()

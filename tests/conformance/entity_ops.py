"""Database, client, session and change-stream operations."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bson import SON
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.synchronous.change_stream import ChangeStream
from pymongo.synchronous.database import Database

from . import results
from .crud_ops import write_models
from .requirements import DriverLacks

if TYPE_CHECKING:
    from .operations import OpContext

ITERATE_TIMEOUT_S = 10.0


# ---- database


def create_collection(db: Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    db.create_collection(kw.pop("collection"), check_exists=False, **kw)


def drop_collection(db: Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    db.drop_collection(kw.pop("collection"), **kw)


def list_collections(db: Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return list(db.list_collections(**kw))


def list_collection_names(db: Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return db.list_collection_names(**kw)


def run_command(db: Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    kw.pop("commandName", None)
    return db.command(SON(kw.pop("command")), **kw)


def modify_collection(db: Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    session = kw.pop("session", None)
    command = SON([("collMod", kw.pop("collection"))])
    command.update(kw)
    return db.command(command, session=session)


# ---- client


def list_databases(client: MongoClient[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return list(client.list_databases(**kw))


def list_database_names(client: MongoClient[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return client.list_database_names(**kw)


def client_bulk_write(client: MongoClient[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    models = write_models(kw.pop("models"), with_namespace=True)
    if "verboseResults" in kw:
        kw["verbose_results"] = kw.pop("verboseResults")
    return results.client_bulk(client.bulk_write(models, **kw))


# ---- session


def start_transaction(session: ClientSession, kw: dict[str, Any], ctx: OpContext) -> Any:
    session.start_transaction(**kw)


def commit_transaction(session: ClientSession, kw: dict[str, Any], ctx: OpContext) -> Any:
    session.commit_transaction()


def abort_transaction(session: ClientSession, kw: dict[str, Any], ctx: OpContext) -> Any:
    session.abort_transaction()


def end_session(session: ClientSession, kw: dict[str, Any], ctx: OpContext) -> Any:
    session.end_session()


def get_snapshot_time(session: ClientSession, kw: dict[str, Any], ctx: OpContext) -> Any:
    """The snapshot time of a snapshot session, through pymongo's public API when it has one
    (`ClientSession.snapshot_time`); never read from pymongo's private state."""
    if not hasattr(type(session), "snapshot_time"):
        raise DriverLacks("ClientSession.snapshot_time (getSnapshotTime)")
    value = session.snapshot_time  # type: ignore[attr-defined]
    return value() if callable(value) else value


def with_transaction(session: ClientSession, kw: dict[str, Any], ctx: OpContext) -> Any:
    callback_ops = kw.pop("callback")
    assert ctx.run_callback is not None
    run = ctx.run_callback

    def callback(_session: ClientSession) -> None:
        run(callback_ops)

    session.with_transaction(callback, **kw)


# ---- change streams


def iterate_until_document_or_error(
    stream: ChangeStream[Any], kw: dict[str, Any], ctx: OpContext
) -> Any:
    deadline = time.monotonic() + ITERATE_TIMEOUT_S
    while time.monotonic() < deadline:
        document = stream.try_next()
        if document is not None:
            return document
    raise AssertionError(f"no change stream document within {ITERATE_TIMEOUT_S:.0f}s")


def iterate_once(stream: ChangeStream[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return stream.try_next()


def close(stream: Any, kw: dict[str, Any], ctx: OpContext) -> Any:
    try:
        stream.close()
    except Exception:
        pass

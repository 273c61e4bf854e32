"""Inputs that used to reach Python's own errors get MongoDB's answer; InternalError is kept
for our bugs, logged once per command with the command name and never the client's data."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from bson import Code
from bson.datetime_ms import DatetimeMS
from bson.int64 import Int64
from bson.timestamp import Timestamp

from mongotx_sandbox import ThreadedSandbox, dispatch
from mongotx_sandbox.connections import Connection
from mongotx_sandbox.state import ServerState
from mongotx_sandbox.wire import Request

from .python_text import python_text
from .rawclient import RawClient

MORE_TO_COME = 1 << 1
CLIENT_DATA = 987654321  # a cursor id the client sends: it must stay out of logs and replies

# (command, database, expected code); each cites where mongod answers so in the sandbox's
# own comments.
CASES: list[tuple[dict[str, Any], str, int]] = [
    ({"find": "c", "limit": math.nan}, "t", 9),
    ({"find": "c", "limit": math.inf}, "t", 9),
    ({"find": "c", "maxTimeMS": math.nan}, "t", 2),
    ({"find": "c", "maxTimeMS": math.inf}, "t", 2),
    ({"killCursors": "c", "cursors": ["x"]}, "t", 14),
    ({"killCursors": "c", "cursors": 5}, "t", 14),
    ({"find": "c", "lsid": {"id": "x"}}, "t", 14),
    ({"endSessions": [{"id": "x"}]}, "admin", 14),
    ({"setParameter": 1, "transactionLifetimeLimitSeconds": math.inf}, "admin", 2),
    ({"setParameter": 1, "transactionLifetimeLimitSeconds": math.nan}, "admin", 2),
    ({"count": Code("x")}, "t", 73),
    ({"find": Code("x")}, "t", 73),
    ({"aggregate": "c", "pipeline": [{"$changeStream": 1.5}], "cursor": {}}, "t", 50808),
    ({"ping": 1, "$clusterTime": {"clusterTime": Timestamp(2**32 - 1, 0)}}, "t", 205),
]


@pytest.mark.parametrize(("body", "db", "code"), CASES)
def test_mongodb_answers_not_python(raw: RawClient, body: dict, db: str, code: int) -> None:
    reply = raw.command(body, db=db)
    assert reply["ok"] == 0 and reply["code"] == code, reply
    assert python_text(reply["errmsg"]) is None, reply["errmsg"]


def test_dates_outside_pythons_range_are_dates(raw: RawClient) -> None:
    far, early = DatetimeMS(2**63 - 1), DatetimeMS(-(2**63))
    raw.command({"drop": "dates"}, db="t")
    reply = raw.command({"insert": "dates", "documents": [{"_id": far}, {"_id": early}]}, db="t")
    assert reply["n"] == 2, reply
    found = raw.command({"find": "dates", "filter": {"_id": far}}, db="t")
    assert found["cursor"]["firstBatch"] == [{"_id": far}]
    ordered = raw.command({"find": "dates", "sort": {"_id": 1}}, db="t")
    assert [d["_id"] for d in ordered["cursor"]["firstBatch"]] == [early, far]


def test_a_more_to_come_message_that_fails_is_never_answered(raw: RawClient) -> None:
    raw.send_raw(raw.op_msg({"killCursors": "c", "cursors": ["x"], "$db": "t"}, flags=MORE_TO_COME))
    raw.send_raw(raw.op_msg({"ping": 1, "$db": "admin"}))
    response_to, reply = raw.read_message()
    assert response_to == raw.request_id and reply["ok"] == 1  # the ping's own reply


def _broken_cursor_table(state: ServerState) -> Any:
    """A cursor table whose lookup fails like a bug of ours would, quoting client data."""

    class Broken(dict):
        def get(self, key: Any, default: Any = None) -> Any:
            raise ValueError(key)

    return Broken(state.cursors)


def test_internal_errors_say_nothing_of_python_and_are_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def faulty(state: ServerState, conn: Connection, req: Request) -> dict[str, Any] | None:
        if "getMore" not in req.body:
            return await dispatch.handle(state, conn, req)
        kept, state.cursors = state.cursors, _broken_cursor_table(state)
        try:
            return await dispatch.handle(state, conn, req)
        finally:
            state.cursors = kept

    caplog.set_level(logging.ERROR, logger="mongotx_sandbox")
    with ThreadedSandbox(handler=faulty) as uri:
        raw = RawClient(uri)
        try:
            for _ in range(2):
                reply = raw.command({"getMore": Int64(CLIENT_DATA), "collection": "c"}, db="t")
                assert reply["code"] == 1 and reply["codeName"] == "InternalError"
                assert python_text(reply["errmsg"]) is None, reply["errmsg"]
                assert str(CLIENT_DATA) not in reply["errmsg"]
            # The moreToCome rule holds for internal errors too.
            raw.send_raw(
                raw.op_msg(
                    {"getMore": Int64(CLIENT_DATA), "collection": "c", "$db": "t"},
                    flags=MORE_TO_COME,
                )
            )
            raw.send_raw(raw.op_msg({"ping": 1, "$db": "admin"}))
            response_to, reply = raw.read_message()
            assert response_to == raw.request_id and reply["ok"] == 1
        finally:
            raw.close()
    logged = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert len(logged) == 1 and "getMore" in logged[0].getMessage()
    assert str(CLIENT_DATA) not in caplog.text


def test_a_handler_bug_is_an_internal_error_without_python_text() -> None:
    async def crashing(state: ServerState, conn: Connection, req: Request) -> dict[str, Any] | None:
        if "boom" in req.body:
            raise KeyError("secret-client-data")
        return await dispatch.handle(state, conn, req)

    with ThreadedSandbox(handler=crashing) as uri:
        raw = RawClient(uri)
        try:
            reply = raw.command({"boom": 1})
            assert reply["code"] == 1 and "secret" not in reply["errmsg"]
            assert python_text(reply["errmsg"]) is None, reply["errmsg"]
            # A moreToCome request is not answered even when the handler fails.
            raw.send_raw(raw.op_msg({"boom": 1, "$db": "admin"}, flags=MORE_TO_COME))
            raw.send_raw(raw.op_msg({"ping": 1, "$db": "admin"}))
            assert raw.read_message()[0] == raw.request_id
        finally:
            raw.close()


@pytest.mark.parametrize(
    "stage",
    [
        {"$project": {"x": {"$mergeObjects": math.nan}}},
        {"$project": {"x": {"$switch": "x"}}},
        {"$project": {"x": {"$size": ["x"]}}},
        {"$project": {"x": {"$concatArrays": [1.5]}}},
        {"$project": {"x": {"$reduce": True}}},
        {"$fill": "x"},
    ],
)
def test_query_engine_errors_carry_no_python(raw: RawClient, stage: dict) -> None:
    raw.command({"insert": "expr", "documents": [{"a": 1}]}, db="t")
    reply = raw.command({"aggregate": "expr", "pipeline": [stage], "cursor": {}}, db="t")
    assert reply["ok"] == 0 and reply["code"] != 1, reply
    assert python_text(reply["errmsg"]) is None, reply["errmsg"]

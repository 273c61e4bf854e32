"""Which error wins when session or read concern fields are wrong (issue 17, D14)."""

from __future__ import annotations

from bson.int64 import Int64

from .rawclient import RawClient, new_lsid


def test_txn_number_without_lsid(raw: RawClient) -> None:
    # [srv:db/logical_session_id_helpers.cpp initializeOperationSessionInfo]: InvalidOptions.
    reply = raw.command({"insert": "c", "documents": [{}], "txnNumber": Int64(1)}, db="test")
    assert (reply["ok"], reply["code"]) == (0, 72)


def test_unknown_read_concern_level_starting_a_transaction(raw: RawClient) -> None:
    # The level is parsed before the transaction's rules apply
    # [srv:db/repl/read_concern_args.cpp, readConcernLevels::fromString]: FailedToParse.
    reply = raw.command(
        {
            "find": "c",
            "lsid": new_lsid(),
            "txnNumber": Int64(1),
            "autocommit": False,
            "startTransaction": True,
            "readConcern": {"level": "bad"},
        },
        db="test",
    )
    assert (reply["ok"], reply["code"]) == (0, 9)


def test_known_level_a_transaction_refuses(raw: RawClient) -> None:
    reply = raw.command(
        {
            "find": "c",
            "lsid": new_lsid(),
            "txnNumber": Int64(1),
            "autocommit": False,
            "startTransaction": True,
            "readConcern": {"level": "linearizable"},
        },
        db="test",
    )
    assert (reply["ok"], reply["code"]) == (0, 72)

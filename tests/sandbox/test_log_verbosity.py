"""The server parameter logComponentVerbosity (`db.setLogLevel`): at COMMAND verbosity 1
every command gets its "Slow query" line (id 51803), whatever its duration (issue 15: jstests
timestamped_reads_wait_for_prepare_oplog_visibility.js waits for prepareTransaction's line)
[manual: reference/parameters logComponentVerbosity; srv:util/log_with_sampling.h
shouldLogSlowOpWithSampling]."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

KEY = "logComponentVerbosity"


@pytest.fixture
def quiet_after(client: MongoClient) -> Iterator[None]:
    """The verbosity is the server's: put it back to 0 (and the command component's to
    unset) after the test."""
    yield
    reset = {"verbosity": 0, "command": {"verbosity": -1}}
    client.admin.command({"setParameter": 1, KEY: reset})


def _logged_finds(client: MongoClient, coll: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in client.admin.command({"getLog": "global"})["log"]]
    return [
        line
        for line in lines
        if line["id"] == 51803 and line["attr"]["command"].get("find") == coll
    ]


def test_verbosity_one_logs_every_command(
    client: MongoClient,
    coll,  # type: ignore[no-untyped-def]
    quiet_after: None,
) -> None:
    coll.insert_one({"_id": 1})
    client.admin.command({"clearLog": "global"})
    coll.find_one({"_id": 1})  # fast: not logged at verbosity 0
    assert _logged_finds(client, coll.name) == []
    reply = client.admin.command({"setParameter": 1, KEY: {"verbosity": 1}})
    assert reply["was"] == {"verbosity": 0}
    coll.find_one({"_id": 1})
    [line] = _logged_finds(client, coll.name)
    assert (line["msg"], line["c"], line["attr"]["ns"]) == (
        "Slow query",
        "COMMAND",
        coll.full_name,
    )
    got = client.admin.command({"getParameter": 1, KEY: 1})[KEY]
    assert got["verbosity"] == 1


def test_the_command_component_overrides_the_default(
    client: MongoClient,
    coll,  # type: ignore[no-untyped-def]
    quiet_after: None,
) -> None:
    coll.insert_one({"_id": 1})
    client.admin.command({"setParameter": 1, KEY: {"verbosity": 1, "command": 0}})
    client.admin.command({"clearLog": "global"})
    coll.find_one({"_id": 1})
    assert _logged_finds(client, coll.name) == []
    client.admin.command({"setParameter": 1, KEY: {"verbosity": 0, "command": {"verbosity": 2}}})
    coll.find_one({"_id": 1})
    assert len(_logged_finds(client, coll.name)) == 1


def test_a_verbosity_that_is_not_a_number_is_refused(
    client: MongoClient, quiet_after: None
) -> None:
    with pytest.raises(OperationFailure) as err:
        client.admin.command({"setParameter": 1, KEY: {"verbosity": "loud"}})
    assert err.value.code == 2
    with pytest.raises(OperationFailure) as err:
        client.admin.command({"setParameter": 1, KEY: 1})
    assert err.value.code == 14

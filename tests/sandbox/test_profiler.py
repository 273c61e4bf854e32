"""The database profiler (`profile`, `<db>.system.profile`) and the server log (`getLog`,
`clearLog`, "Slow query" lines) (issue 15: jstests core/txns/prepare_conflict.js)
[manual: reference/database-profiler, tutorial/manage-the-database-profiler;
srv:db/commands/profile_common.cpp, db/curop.cpp OpDebug::append and OpDebug::report,
db/commands/generic_servers.cpp CmdGetLog, ClearLogCmd; logv2/ramlog.cpp]."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import bson
import pytest
from bson.timestamp import Timestamp
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def _soon(probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` until it returns something truthy (a generous deadline, no sleeps)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
    raise AssertionError(f"never saw {what}")


def _code(fn: Callable[[], Any]) -> OperationFailure:
    with pytest.raises(OperationFailure) as err:
        fn()
    return err.value


@pytest.fixture
def settings_restored(client: MongoClient) -> Iterator[None]:
    """slowms and sampleRate are the server's: put the defaults back after the test."""
    yield
    client.admin.command({"profile": -1, "slowms": 100, "sampleRate": 1.0})


def _log(client: MongoClient) -> list[dict[str, Any]]:
    return [json.loads(line) for line in client.admin.command({"getLog": "global"})["log"]]


def test_profile_levels_and_settings(client: MongoClient, settings_restored: None) -> None:
    db = client.profiler_levels
    reply = db.command({"profile": -1})
    assert (reply["was"], reply["slowms"], reply["sampleRate"]) == (0, 100, 1.0)
    assert "system.profile" not in db.list_collection_names()
    # The reply holds the settings as they were; level is per database, slowms global.
    reply = db.command({"profile": 1, "slowms": 250})
    assert (reply["was"], reply["slowms"]) == (0, 100)
    reply = db.command({"profile": -1})
    assert (reply["was"], reply["slowms"]) == (1, 250)
    assert client.profiler_other.command({"profile": -1})["was"] == 0
    assert client.profiler_other.command({"profile": -1})["slowms"] == 250
    # Turning it on makes the capped collection (manual: 1 MiB).
    options = db["system.profile"].options()
    assert options["capped"] is True and options["size"] == 1024 * 1024
    # Level 1: a fast find is not profiled.
    db.c.insert_one({"_id": 1})
    db.c.find_one({"_id": 1})
    assert db["system.profile"].count_documents({"ns": "profiler_levels.c"}) == 0
    # Level 2: every operation is, with the command as sent.
    db.command({"profile": 2})
    db.command({"find": "c", "filter": {"_id": 1}, "comment": "level two"})
    [entry] = db["system.profile"].find({"command.comment": "level two"})
    assert entry["op"] == "query" and entry["ns"] == "profiler_levels.c"
    assert entry["command"]["filter"] == {"_id": 1}
    assert entry["command"]["$db"] == "profiler_levels"
    assert isinstance(entry["millis"], int) and "ts" in entry
    assert "prepareReadConflicts" not in entry
    # A failed command is profiled with its error.
    _code(lambda: db.command({"find": "c", "filter": {"$bad": 1}, "comment": "fails"}))
    [failed] = db["system.profile"].find({"command.comment": "fails"})
    assert failed["ok"] == 0 and failed["errCode"] == 2 and failed["errName"] == "BadValue"
    # Level 0: nothing more.
    assert db.command({"profile": 0})["was"] == 2
    db.command({"find": "c", "comment": "after off"})
    assert db["system.profile"].count_documents({"command.comment": "after off"}) == 0


def test_profile_filter(client: MongoClient, settings_restored: None) -> None:
    """With a filter, the filter alone decides (profile_common.cpp's note)."""
    db = client.profiler_filter
    reply = db.command({"profile": 1, "filter": {"op": "query", "command.comment": "keep"}})
    assert "filter" not in reply and "note" in reply
    db.command({"find": "c", "comment": "keep"})
    db.command({"find": "c", "comment": "drop"})
    kept = [e["command"]["comment"] for e in db["system.profile"].find({"ns": "profiler_filter.c"})]
    assert kept == ["keep"]
    reply = db.command({"profile": 0, "filter": "unset"})
    assert reply["filter"] == {"op": "query", "command.comment": "keep"} and "note" in reply
    assert "filter" not in db.command({"profile": -1})


def test_profile_refusals(client: MongoClient) -> None:
    db = client.profiler_refusals
    assert _code(lambda: db.command({"profile": 1, "sampleRate": 2.0})).code == 2
    assert _code(lambda: db.command({"profile": "on"})).code == 14
    assert _code(lambda: db.command({"profile": 1, "filter": 3})).code == 2
    assert db.command({"profile": -1})["was"] == 0  # nothing changed


def test_a_read_behind_a_prepared_transaction_is_profiled_with_its_conflicts(
    client: MongoClient, uri: str, settings_restored: None
) -> None:
    db = client.profiler_prepare
    db.c.drop()
    db.c.insert_many([{"_id": 1, "x": 1}, {"_id": 2}])
    db.command({"profile": 2})
    s = client.start_session()
    s.start_transaction()
    db.c.update_one({"_id": 1}, {"$inc": {"x": 1}}, session=s)
    ts = client.admin.command({"prepareTransaction": 1}, session=s)["prepareTimestamp"]
    assert isinstance(ts, Timestamp)
    other = MongoClient(uri)
    outcome: dict[str, Any] = {}
    find = {"find": "c", "filter": {"_id": 1}, "readConcern": {"afterClusterTime": ts}}
    thread = threading.Thread(target=lambda: outcome.update(r=other.profiler_prepare.command(find)))
    thread.start()
    _soon(
        lambda: list(
            client.admin.aggregate(
                [{"$currentOp": {}}, {"$match": {"command.find": "c", "prepareReadConflicts": 1}}]
            )
        ),
        "the find waiting on the prepared transaction",
    )
    client.admin.command("abortTransaction", session=s)
    thread.join()
    assert outcome["r"]["cursor"]["firstBatch"] == [{"_id": 1, "x": 1}]
    [entry] = db["system.profile"].find({"ns": "profiler_prepare.c", "command.filter": {"_id": 1}})
    assert entry["prepareReadConflicts"] == 1
    assert entry["command"]["readConcern"] == {"afterClusterTime": ts}
    # A read of the other document met no prepared write.
    db.command({"profile": 0})
    other.close()
    s.end_session()


def test_a_slow_read_behind_a_prepared_transaction_is_logged(
    client: MongoClient, settings_restored: None
) -> None:
    """Slower than slowms: a "Slow query" line (id 51803) with prepareConflictDurationMillis;
    a fast read of a document no one prepared gets none."""
    db = client.profiler_slow
    db.c.drop()
    db.c.insert_many([{"_id": 1, "x": 1}, {"_id": 2}])
    db.command({"profile": 1, "slowms": 100})
    s = client.start_session()
    s.start_transaction()
    db.c.update_one({"_id": 1}, {"$inc": {"x": 1}}, session=s)
    ts = client.admin.command({"prepareTransaction": 1}, session=s)["prepareTimestamp"]
    client.admin.command({"clearLog": "global"})
    find = {
        "find": "c",
        "filter": {"_id": 1},
        "readConcern": {"afterClusterTime": ts},
        "maxTimeMS": 300,  # at least 300 ms: slower than slowms whatever the machine
    }
    assert _code(lambda: db.command(find)).code == 50
    [line] = [e for e in _log(client) if e["id"] == 51803]
    assert line["msg"] == "Slow query" and line["c"] == "COMMAND"
    attr = line["attr"]
    assert attr["ns"] == "profiler_slow.c" and attr["command"]["filter"] == {"_id": 1}
    assert attr["prepareConflictDurationMillis"] >= 1
    assert attr["prepareReadConflicts"] == 1
    assert attr["errCode"] == 50 and attr["errName"] == "MaxTimeMSExpired"
    assert attr["durationMillis"] >= 300
    assert list(attr)[-1] == "durationMillis"
    [entry] = db["system.profile"].find({"ns": "profiler_slow.c"})
    assert entry["prepareReadConflicts"] == 1 and entry["millis"] >= 300
    client.admin.command({"clearLog": "global"})
    db.command({"find": "c", "filter": {"_id": 2}})
    assert not any("prepareConflictDuration" in line for line in _logged(client))
    client.admin.command("abortTransaction", session=s)
    db.command({"profile": 0})
    s.end_session()


def _logged(client: MongoClient) -> list[str]:
    return list(client.admin.command({"getLog": "global"})["log"])


def test_get_log_and_clear_log(client: MongoClient) -> None:
    assert client.admin.command({"getLog": "*"})["names"] == ["global", "startupWarnings"]
    client.admin.command({"clearLog": "global"})
    reply = client.admin.command({"getLog": "global"})
    assert reply["totalLinesWritten"] == 0 and reply["log"] == []
    client.profiler_log.command({"profile": 0})  # a settings change is logged (id 48742)
    [line] = _log(client)
    assert line["id"] == 48742 and line["msg"] == "Profiler settings changed"
    assert set(line) == {"t", "s", "c", "id", "ctx", "msg", "attr"}
    assert client.admin.command({"getLog": "startupWarnings"})["log"] == []
    assert _code(lambda: client.admin.command({"getLog": 1})).code == 14
    error = _code(lambda: client.admin.command({"getLog": "nope"}))
    assert error.details is not None and error.details["errmsg"] == "no RamLog named: nope"
    assert _code(lambda: client.admin.command({"clearLog": "startupWarnings"})).code == 72
    assert _code(lambda: client.test.command({"getLog": "global"})).code == 13


def test_the_log_keeps_its_last_1024_lines(client: MongoClient, settings_restored: None) -> None:
    client.admin.command({"clearLog": "global"})
    client.admin.command({"profile": -1, "slowms": 0})  # every operation is slow now
    for i in range(1100):
        client.admin.command({"ping": 1, "comment": i})
    client.admin.command({"profile": -1, "slowms": 100})
    reply = client.admin.command({"getLog": "global"})
    assert reply["totalLinesWritten"] >= 1101
    assert len(reply["log"]) == 1024
    comments = [json.loads(x)["attr"].get("command", {}).get("comment") for x in reply["log"]]
    assert 0 not in comments and 1099 in comments
    # And at most 1 MiB of lines: large commands leave fewer lines.
    client.admin.command({"profile": -1, "slowms": 0})
    for i in range(200):
        client.admin.command({"ping": 1, "comment": f"{i:05d}" + "x" * 10_000})
    client.admin.command({"profile": -1, "slowms": 100})
    lines = client.admin.command({"getLog": "global"})["log"]
    assert sum(len(x) for x in lines) <= 1024 * 1024 and len(lines) < 150


def test_system_profile_is_capped_at_1_mib(client: MongoClient, settings_restored: None) -> None:
    db = client.profiler_capped
    db.command({"profile": 2})
    for i in range(40):
        db.command({"find": "c", "comment": f"{i:03d}" + "y" * 40_000})
    db.command({"profile": 0})
    entries = list(db["system.profile"].find({"ns": "profiler_capped.c"}))
    assert sum(len(bson.encode(e)) for e in db["system.profile"].find()) <= 1024 * 1024
    first = [e["command"]["comment"][:3] for e in entries]
    assert "000" not in first and "039" in first
    assert first == sorted(first)  # the oldest went first, natural order kept

"""explain (issue 17, D15): mongod's reply shape, the plan the sandbox really runs, and the
transaction rules (263 inside one, 50768 with a txnNumber outside one)."""

from __future__ import annotations

from typing import Any

import pytest
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.errors import OperationFailure


@pytest.fixture
def ten(coll):  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "x": i % 3} for i in range(10)])
    return coll


def _explain(coll, inner: dict[str, Any], verbosity: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    cmd: dict[str, Any] = {"explain": inner}
    if verbosity:
        cmd["verbosity"] = verbosity
    return coll.database.command(cmd)


def test_find_scans_the_collection_and_reports_what_it_examined(ten) -> None:  # type: ignore[no-untyped-def]
    reply = _explain(ten, {"find": ten.name, "filter": {"x": 1}}, "executionStats")
    planner = reply["queryPlanner"]
    assert reply["explainVersion"] == "1"
    assert planner["namespace"] == ten.full_name
    assert planner["parsedQuery"] == {"x": {"$eq": 1}}
    assert planner["winningPlan"]["stage"] == "COLLSCAN"
    assert planner["rejectedPlans"] == []
    stats = reply["executionStats"]
    assert stats["nReturned"] == 3 and stats["totalDocsExamined"] == 10
    assert stats["totalKeysExamined"] == 0 and "allPlansExecution" not in stats
    assert reply["command"]["find"] == ten.name and reply["serverInfo"]["version"].startswith("8.")


def test_id_lookups_use_the_id_index(ten) -> None:  # type: ignore[no-untyped-def]
    point = _explain(ten, {"find": ten.name, "filter": {"_id": 3}})
    assert point["queryPlanner"]["winningPlan"]["stage"] == "IDHACK"
    assert point["executionStats"]["allPlansExecution"] == []  # the default verbosity
    many = _explain(ten, {"find": ten.name, "filter": {"_id": {"$in": [1, 2]}, "x": 1}})
    plan = many["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "FETCH" and plan["filter"] == {"x": {"$eq": 1}}
    assert plan["inputStage"]["stage"] == "IXSCAN"
    assert plan["inputStage"]["indexName"] == "_id_"
    assert many["executionStats"]["nReturned"] == 1


def test_queryplanner_verbosity_runs_nothing(ten) -> None:  # type: ignore[no-untyped-def]
    reply = _explain(ten, {"find": ten.name, "sort": {"x": 1}, "limit": 2}, "queryPlanner")
    assert "executionStats" not in reply
    sort = reply["queryPlanner"]["winningPlan"]
    assert sort["stage"] == "SORT" and sort["limitAmount"] == 2
    assert sort["inputStage"]["stage"] == "COLLSCAN"


def test_writes_are_explained_without_writing(ten) -> None:  # type: ignore[no-untyped-def]
    update = _explain(
        ten,
        {"update": ten.name, "updates": [{"q": {"x": 1}, "u": {"$set": {"y": 1}}, "multi": True}]},
        "executionStats",
    )
    stages = update["executionStats"]["executionStages"]
    assert stages["stage"] == "UPDATE" and stages["nMatched"] == 3 and stages["nWouldModify"] == 3
    delete = _explain(ten, {"delete": ten.name, "deletes": [{"q": {"x": 2}, "limit": 0}]})
    assert delete["executionStats"]["executionStages"]["nWouldDelete"] == 3
    fam = _explain(ten, {"findAndModify": ten.name, "query": {"_id": 4}, "remove": True})
    assert fam["queryPlanner"]["winningPlan"]["stage"] == "DELETE"
    assert ten.count_documents({}) == 10 and ten.count_documents({"y": 1}) == 0


def test_count_distinct_and_aggregate(ten) -> None:  # type: ignore[no-untyped-def]
    count = _explain(ten, {"count": ten.name})
    assert count["queryPlanner"]["winningPlan"]["stage"] == "RECORD_STORE_FAST_COUNT"
    assert count["executionStats"]["executionStages"]["nCounted"] == 10
    counted = _explain(ten, {"count": ten.name, "query": {"x": 0}})
    assert counted["queryPlanner"]["winningPlan"]["stage"] == "COUNT"
    assert counted["executionStats"]["executionStages"]["nCounted"] == 4
    distinct = _explain(ten, {"distinct": ten.name, "key": "x"})
    assert distinct["queryPlanner"]["winningPlan"]["stage"] == "COLLSCAN"
    pipeline = [{"$match": {"x": 1}}, {"$group": {"_id": "$x"}}]
    agg = _explain(ten, {"aggregate": ten.name, "pipeline": pipeline, "cursor": {}})
    cursor = agg["stages"][0]["$cursor"]
    assert cursor["queryPlanner"]["parsedQuery"] == {"x": {"$eq": 1}}
    assert agg["stages"][1] == {"$group": {"_id": "$x"}}
    own = ten.database.command("aggregate", ten.name, pipeline=pipeline[:1], explain=True)
    assert own["queryPlanner"]["winningPlan"]["stage"] == "COLLSCAN"


def test_explain_errors(ten) -> None:  # type: ignore[no-untyped-def]
    for cmd, code in [
        ({"explain": {"nosuch": 1}}, 59),
        ({"explain": {"insert": ten.name, "documents": [{}]}}, 20),
        ({"explain": {"find": ten.name}, "verbosity": "loud"}, 2),
        ({"explain": {"find": ten.name, "$db": "other"}}, 73),
        ({"explain": 1}, 2),
    ]:
        with pytest.raises(OperationFailure) as info:
            ten.database.command(cmd)
        assert info.value.code == code, cmd


def test_explain_is_refused_in_a_transaction_and_with_a_txn_number(
    client: MongoClient, ten
) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        ten.find_one(session=s)
        with pytest.raises(OperationFailure) as info:
            ten.database.command({"explain": {"find": ten.name}}, session=s)
        assert info.value.code == 263
        assert "Cannot run 'explain' in a multi-document transaction" in str(info.value)
        s.abort_transaction()
    lsid = client.start_session()
    with pytest.raises(OperationFailure) as info:
        ten.database.command({"explain": {"find": ten.name}, "txnNumber": Int64(1)}, session=lsid)
    assert info.value.code == 50768
    lsid.end_session()

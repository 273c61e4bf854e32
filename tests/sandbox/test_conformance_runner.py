"""The spec-test runner (tests/conformance) on test files of the newer schema versions: it runs
what it and pymongo support, and says per test what the runner or pymongo lacks (issue 17).
The files here are written for this test, in the unified test format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from tests.conformance.requirements import Unsupported
from tests.conformance.runner import Skip, run_case
from tests.conformance.specs import SpecCase, load_file
from tests.conformance.target import Target


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    t = Target()
    yield t
    t.close()


def _case(tmp_path: Path, schema: str, test: dict[str, Any], **file: Any) -> SpecCase:
    body = {
        "description": "runner check",
        "schemaVersion": schema,
        "createEntities": [
            {"client": {"id": "client0"}},
            {"database": {"id": "db0", "client": "client0", "databaseName": "runner"}},
            {"collection": {"id": "coll0", "database": "db0", "collectionName": "c"}},
            {
                "session": {
                    "id": "session0",
                    "client": "client0",
                    "sessionOptions": {"snapshot": True},
                }
            },
        ],
        "initialData": [
            {"collectionName": "c", "databaseName": "runner", "documents": [{"_id": 1}]}
        ],
        **file,
        "tests": [{"description": "one", **test}],
    }
    path = tmp_path / f"runner-{schema}.json"
    path.write_text(json.dumps(body))
    data = load_file(path)
    return SpecCase("sessions", path, data, data["tests"][0])


_FIND = {
    "name": "find",
    "object": "coll0",
    "arguments": {"filter": {}, "session": "session0"},
    "expectResult": [{"_id": 1}],
}


@pytest.mark.parametrize("schema", ["1.21", "1.23", "1.26"])
def test_newer_schema_versions_run(tmp_path: Path, target: Target, schema: str) -> None:
    run_case(_case(tmp_path, schema, {"operations": [_FIND]}), target)


@pytest.mark.parametrize("schema", ["1.27", "2.0"])
def test_unknown_schema_versions_are_reported(tmp_path: Path, target: Target, schema: str) -> None:
    with pytest.raises(Unsupported, match=f"runner lacks schemaVersion {schema}"):
        run_case(_case(tmp_path, schema, {"operations": [_FIND]}), target)


def test_get_snapshot_time_says_what_pymongo_lacks(tmp_path: Path, target: Target) -> None:
    ops = [_FIND, {"name": "getSnapshotTime", "object": "session0", "saveResultAsEntity": "t0"}]
    if hasattr(pymongo.client_session.ClientSession, "snapshot_time"):
        run_case(_case(tmp_path, "1.26", {"operations": ops}), target)
        return
    with pytest.raises(Skip) as info:
        run_case(_case(tmp_path, "1.26", {"operations": ops}), target)
    assert str(info.value) == (
        f"pymongo {pymongo.version} lacks ClientSession.snapshot_time (getSnapshotTime)"
    )


def test_snapshot_time_session_option_says_what_pymongo_lacks(
    tmp_path: Path, target: Target
) -> None:
    case = _case(
        tmp_path,
        "1.26",
        {"operations": [_FIND]},
        createEntities=[
            {"client": {"id": "client0"}},
            {
                "session": {
                    "id": "session1",
                    "client": "client0",
                    "sessionOptions": {
                        "snapshot": True,
                        "snapshotTime": {"$timestamp": {"t": 1, "i": 1}},
                    },
                }
            },
            {"database": {"id": "db0", "client": "client0", "databaseName": "runner"}},
            {"collection": {"id": "coll0", "database": "db0", "collectionName": "c"}},
            {
                "session": {
                    "id": "session0",
                    "client": "client0",
                    "sessionOptions": {"snapshot": True},
                }
            },
        ],
    )
    import inspect

    if "snapshot_time" in inspect.signature(pymongo.MongoClient.start_session).parameters:
        return  # a newer pymongo: the option is passed on
    with pytest.raises(Skip, match=f"pymongo {pymongo.version} lacks start_session"):
        run_case(case, target)


def test_log_message_assertions_are_reported(tmp_path: Path, target: Target) -> None:
    test = {"operations": [_FIND], "expectLogMessages": []}
    with pytest.raises(Unsupported, match="runner lacks test field"):
        run_case(_case(tmp_path, "1.13", test), target)


def test_the_summary_counts_the_tests_that_need_a_sharded_topology(tmp_path: Path) -> None:
    """A test needs a sharded topology when every alternative of its file's or its own
    runOnRequirements names topologies without single or replicaset (issue 15)."""
    from tests.conformance.summary import needs_sharded, sharded_line

    def case(file_reqs: Any, test_reqs: Any, name: str) -> SpecCase:
        test: dict[str, Any] = {"description": name, "operations": []}
        if test_reqs is not None:
            test["runOnRequirements"] = test_reqs
        file: dict[str, Any] = {"tests": [test]}
        if file_reqs is not None:
            file["runOnRequirements"] = file_reqs
        return SpecCase("transactions", tmp_path / "f.json", file, test)

    sharded = [{"topologies": ["sharded", "load-balanced"]}]
    either = [{"topologies": ["replicaset"]}, {"topologies": ["sharded"]}]
    cases = [
        case(sharded, None, "file sharded"),
        case(None, [{"minServerVersion": "4.2", "topologies": ["sharded-replicaset"]}], "own"),
        case(either, None, "replica set or sharded"),
        case([{"minServerVersion": "4.0"}], None, "any topology"),
        case(None, None, "no requirements"),
    ]
    assert [needs_sharded(c) for c in cases] == [True, True, False, False, False]
    outcomes = {
        cases[0].case_id: ("passed", ""),
        cases[1].case_id: ("skipped", "needs topology sharded-replicaset"),
        cases[2].case_id: ("passed", ""),
    }
    assert sharded_line(cases, outcomes) == (
        "Needing a sharded topology: 2 tests; passed 1, failed 0, skipped 1"
    )

"""Data safety outside our own sandbox: `run` and exported scripts never drop a collection
that holds data on a deployment reached by a URI unless told to (--allow-drop).

The deployment is a sandbox started on its own thread and reached by its URI, as a user's
server would be: it even says `sandbox: true` in buildInfo, and is protected all the same
(only a sandbox the same process started is ours to drop). Real pymongo, real sockets,
exported scripts run as subprocesses. No mocks.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui.cli import main
from mongotx_tui.scenario import load_scenario
from mongotx_tui.scenario.export import export_script

USER_DOCS = [
    {"_id": "u1", "owner": "ann", "balance": 7},
    {"_id": "u2", "owner": "bob", "balance": 8},
    {"_id": "u3", "owner": "cy", "balance": 9},
]
# write-conflict's setup: bank.accounts with two documents, and what it leaves behind
SCENARIO_FINAL = [{"_id": 1, "balance": 111}, {"_id": 2, "balance": 20}]


@pytest.fixture
def server() -> Iterator[str]:
    """A fresh deployment for each test, reached by URI only."""
    with ThreadedSandbox() as uri:
        yield uri


@pytest.fixture
def client(server: str) -> Iterator[MongoClient[dict[str, Any]]]:
    with MongoClient(server) as c:
        yield c


def user_data(client: MongoClient[dict[str, Any]]) -> None:
    """The user's own bank.accounts: three documents and a secondary index."""
    client.bank.accounts.insert_many([dict(d) for d in USER_DOCS])
    client.bank.accounts.create_index("owner", name="owner_1")


def snapshot(client: MongoClient[dict[str, Any]]) -> tuple[int, list[Any], list[str]]:
    coll = client.bank.accounts
    docs = list(coll.find({}, sort=[("_id", 1)]))
    return coll.count_documents({}), docs, sorted(coll.index_information())


INTACT = (3, USER_DOCS, ["_id_", "owner_1"])


def test_the_deployment_claims_to_be_a_sandbox_and_is_protected_all_the_same(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client.admin.command("buildInfo").get("sandbox") is True
    user_data(client)
    assert main(["run", "write-conflict", server, "--in-place"]) == 3
    assert snapshot(client) == INTACT


def test_run_in_place_refuses_to_drop_a_collection_holding_data(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    user_data(client)
    assert main(["run", "write-conflict", server, "--in-place"]) == 3
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == f"deployment: {server} · database bank"
    assert "bank.accounts: 3 documents, 1 index besides _id (owner_1)" in err
    assert "Nothing was changed" in err and "--allow-drop" in err and "mongotx_bank" in err
    assert "Traceback" not in err
    assert snapshot(client) == INTACT
    assert "mongotx_bank" not in client.list_database_names()


def test_run_by_uri_uses_a_database_of_its_own_without_asking(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    user_data(client)
    for _ in range(2):  # a second run reuses its own database: still no question
        assert main(["run", "write-conflict", server]) == 0
        out = capsys.readouterr().out
        first = out.splitlines()[0]
        assert first.startswith(f"deployment: {server} · database mongotx_bank")
        assert "bank is left alone unless --in-place" in first
        assert "10/10 steps as expected" in out
        assert snapshot(client) == INTACT
        assert list(client.mongotx_bank.accounts.find({}, sort=[("_id", 1)])) == SCENARIO_FINAL


def test_a_lesson_whose_commands_name_its_database_is_not_moved_to_one_of_its_own(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sharded lesson's raw commands name `bank` (enableSharding, shardCollection): moved to
    mongotx_bank they would still act on the user's bank, so it is refused, in words."""
    user_data(client)
    assert main(["run", "read-waits-behind-prepare", server]) == 2
    err = capsys.readouterr().err
    assert "step 1's command names the database 'bank' itself" in err
    assert "run it in place" in err and "ValueError" not in err
    assert snapshot(client) == INTACT


def test_run_with_allow_drop_drops_and_refills_in_place(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    user_data(client)
    assert main(["run", "write-conflict", server, "--allow-drop"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"deployment: {server} · database bank"
    assert list(client.bank.accounts.find({}, sort=[("_id", 1)])) == SCENARIO_FINAL
    assert sorted(client.bank.accounts.index_information()) == ["_id_"]


def test_an_empty_collection_in_place_needs_no_consent(
    client: MongoClient[dict[str, Any]], server: str
) -> None:
    client.bank.create_collection("accounts")  # exists, holds nothing
    assert main(["run", "write-conflict", server, "--in-place"]) == 0
    assert list(client.bank.accounts.find({}, sort=[("_id", 1)])) == SCENARIO_FINAL


def test_an_index_alone_is_protected_too(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client.bank.accounts.create_index("owner", name="owner_1")  # no documents
    assert main(["run", "write-conflict", server, "--in-place"]) == 3
    assert "bank.accounts: 0 documents, 1 index besides _id (owner_1)" in capsys.readouterr().err
    assert sorted(client.bank.accounts.index_information()) == ["_id_", "owner_1"]


def test_run_json_keeps_stdout_json_and_says_where(
    client: MongoClient[dict[str, Any]], server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    user_data(client)
    assert main(["run", "g0", server, "--json"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert record["database"] == "mongotx_hermitage" and record["server"] == server
    assert err.splitlines()[0].startswith(f"deployment: {server} · database mongotx_hermitage")
    assert snapshot(client) == INTACT


def test_the_first_line_masks_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = f"mongodb://ann:s3cret@127.0.0.1:{port}/?serverSelectionTimeoutMS=200"
    assert main(["run", "g0", uri]) == 2
    out, err = capsys.readouterr()
    masked = f"mongodb://ann:****@127.0.0.1:{port}/?serverSelectionTimeoutMS=200"
    assert out.splitlines()[0].startswith(f"deployment: {masked} · database mongotx_hermitage")
    assert "s3cret" not in out + err


def test_run_without_uri_names_the_sandbox_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "g1a"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert (
        first == "deployment: sandbox (in this process), started for this run · database hermitage"
    )
    assert "on sandbox (in this process), database hermitage" in out


# -- exported scripts ----------------------------------------------------------------------


def run_script(tmp_path: Path, aio: bool, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "exported.py"
    path.write_text(export_script(load_scenario("write-conflict"), aio=aio))
    return subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_exported_script_refuses_in_place_and_runs_in_its_own_database(
    aio: bool, client: MongoClient[dict[str, Any]], server: str, tmp_path: Path
) -> None:
    user_data(client)
    refused = run_script(tmp_path, aio, server, "--in-place")
    assert refused.returncode == 3, refused.stderr
    assert "bank.accounts: 3 documents, indexes besides _id: owner_1" in refused.stderr
    assert "Nothing was changed" in refused.stderr and "--allow-drop" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused.stdout.splitlines()[0] == f"deployment: {server} · database bank"
    assert snapshot(client) == INTACT

    default = run_script(tmp_path, aio, server)
    assert default.returncode == 0, default.stderr
    assert default.stdout.splitlines()[0] == f"deployment: {server} · database mongotx_bank"
    assert snapshot(client) == INTACT
    assert list(client.mongotx_bank.accounts.find({}, sort=[("_id", 1)])) == SCENARIO_FINAL


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_exported_script_with_allow_drop_drops_in_place(
    aio: bool, client: MongoClient[dict[str, Any]], server: str, tmp_path: Path
) -> None:
    user_data(client)
    allowed = run_script(tmp_path, aio, server, "--allow-drop")
    assert allowed.returncode == 0, allowed.stderr
    assert list(client.bank.accounts.find({}, sort=[("_id", 1)])) == SCENARIO_FINAL
    assert sorted(client.bank.accounts.index_information()) == ["_id_"]

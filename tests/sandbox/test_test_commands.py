"""`mongotx-sandbox --no-test-commands` answers configureFailPoint as a mongod started
without enableTestCommands does: the command does not exist (59 CommandNotFound)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


@pytest.fixture
def refusing_uri() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--port", "0", "--no-test-commands"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        assert uri.startswith("mongodb://"), proc.stderr.read() if proc.stderr else ""
        yield uri
    finally:
        proc.terminate()
        proc.wait(timeout=10)


FAIL_POINT = {
    "configureFailPoint": "failCommand",
    "mode": {"times": 1},
    "data": {"failCommands": ["insert"], "errorCode": 2},
}


def test_configure_fail_point_is_no_such_command(refusing_uri: str) -> None:
    with MongoClient(refusing_uri, serverSelectionTimeoutMS=5000) as client:
        with pytest.raises(OperationFailure) as caught:
            client.admin.command(FAIL_POINT)
        assert caught.value.code == 59
        assert caught.value.details["codeName"] == "CommandNotFound"
        assert caught.value.details["errmsg"] == "no such command: 'configureFailPoint'"
        client.test.c.insert_one({"_id": 1})  # nothing was set: the insert works


def test_test_commands_are_on_by_default(client: MongoClient) -> None:
    assert client.admin.command({**FAIL_POINT, "mode": "off"})["ok"] == 1

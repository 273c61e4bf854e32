"""Command modules load on first use: each command still works the first time a client sends it.

Each test runs the sandbox in a fresh interpreter, so no command module is loaded until a real
pymongo client sends a command over the socket.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mongotx_sandbox.commands import MODULES

# Serves until stdin closes; answers each line read with the sandbox modules loaded so far.
_SERVER = """
import asyncio, json, sys
from mongotx_sandbox import SandboxServer

def loaded():
    return sorted(m for m in sys.modules if m.startswith("mongotx_sandbox."))

async def main():
    async with SandboxServer() as uri:
        print(json.dumps([uri, loaded()]), flush=True)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline):
            print(json.dumps(loaded()), flush=True)

asyncio.run(main())
"""
PKG = "mongotx_sandbox.commands"


class FreshSandbox:
    """A sandbox in its own new interpreter."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.uri, self.at_start = json.loads(self.stdout.readline())

    def loaded(self) -> list[str]:
        """The sandbox modules the server process has imported by now."""
        self.stdin.write("\n")
        self.stdin.flush()
        return json.loads(self.stdout.readline())

    def close(self) -> None:
        self.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stdout.close()


@pytest.fixture
def fresh() -> Iterator[FreshSandbox]:
    server = FreshSandbox()
    yield server
    server.close()


def test_a_command_module_loads_and_works_on_first_use(fresh: FreshSandbox) -> None:
    assert not [m for m in fresh.at_start if m.startswith(f"{PKG}.") and m != f"{PKG}.registry"]
    with MongoClient(fresh.uri, serverSelectionTimeoutMS=5000) as client:
        client.admin.command("ping")
        loaded = fresh.loaded()
        assert f"{PKG}.admin" in loaded
        assert f"{PKG}.failpoint" not in loaded and "mongotx_sandbox.failpoints" not in loaded
        # configureFailPoint is the first command from its module, and its fail point fires.
        client.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 1},
                "data": {"failCommands": ["ping"], "errorCode": 2},
            }
        )
        with pytest.raises(OperationFailure) as info:
            client.admin.command("ping")
        assert info.value.code == 2 and "failCommand" in str(info.value)
        assert client.admin.command("ping")["ok"] == 1
        assert f"{PKG}.ddl" not in fresh.loaded()
        client.lazy.items.insert_one({"_id": 1})
        assert client.lazy.list_collection_names() == ["items"]
        assert {f"{PKG}.failpoint", f"{PKG}.crud", f"{PKG}.ddl"} <= set(fresh.loaded())


def test_every_listed_command_is_known_on_first_use(fresh: FreshSandbox) -> None:
    with MongoClient(fresh.uri, serverSelectionTimeoutMS=5000) as client:
        for name in sorted(MODULES):
            try:
                client.admin.command({name: 1})
            except OperationFailure as exc:  # a bad argument, but a known command
                # 59: no such command; 1: an internal error (e.g. its module did not define it)
                assert exc.code not in (1, 59), f"{name}: {exc}"
    assert {f"{PKG}.{module}" for module in MODULES.values()} <= set(fresh.loaded())


def test_an_unknown_command_gets_the_same_error_and_loads_nothing(fresh: FreshSandbox) -> None:
    with MongoClient(fresh.uri, serverSelectionTimeoutMS=5000) as client:
        client.admin.command("ping")
        before = fresh.loaded()
        for name in ("noSuchCommand", "listcollections"):  # case matters, as in MongoDB
            with pytest.raises(OperationFailure) as info:
                client.test.command({name: 1})
            assert info.value.code == 59
            assert info.value.details is not None
            assert info.value.details["codeName"] == "CommandNotFound"
            assert info.value.details["errmsg"] == (
                f"no such command: '{name}' (the mongotx sandbox does not implement it; "
                "see the README's table of supported commands)"
            )
        assert fresh.loaded() == before

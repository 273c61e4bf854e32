"""The deployment the tests run against: a fresh sandbox per spec file, or `MONGOTX_TEST_URI`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import OperationFailure

from .requirements import ServerInfo, parse_version

AUTH_USER = ("bob", "pwd123")  # MONGOTX_TEST_AUTH=1: the user drivers' CI runs with
CLIENT_DEFAULTS: dict[str, Any] = {"serverSelectionTimeoutMS": 5000, "socketTimeoutMS": 30000}


class Target:
    """Owns the server (when it is a sandbox) and the runner's internal client."""

    def __init__(self) -> None:
        self.external_uri = os.environ.get("MONGOTX_TEST_URI") or None
        self._sandbox: Any = None
        self._file: Path | None = None
        self.uri = ""
        self.internal: MongoClient[dict[str, Any]] | None = None
        self.info: ServerInfo | None = None
        self._parameters: dict[str, Any] | None = None

    def for_file(self, path: Path) -> None:
        """Ensure a clean deployment for the tests of `path` (a new sandbox per file)."""
        if self._file == path and self.internal is not None:
            return
        self.close()
        self._file = path
        if self.external_uri:
            self.uri = self.external_uri
        else:
            from mongotx_sandbox import ThreadedSandbox

            # A file that reads from non-primary members runs on three, so the driver has
            # secondaries to select (issue 13); the others keep the faster one-member set.
            members = 3 if needs_secondaries(path) else 1
            self._sandbox = ThreadedSandbox(members=members)
            if os.environ.get("MONGOTX_TEST_AUTH") == "1":
                # An --auth sandbox with the drivers' CI user (root), so that the tests
                # with runOnRequirements `auth: true` run (issue 13 item 4).
                from mongotx_sandbox.auth import enforce

                self._sandbox.server.state.auth = enforce([AUTH_USER])
                uri = self._sandbox.start()
                self.uri = uri.replace("mongodb://", "mongodb://{}:{}@".format(*AUTH_USER), 1)
            else:
                self.uri = self._sandbox.start()
        self.internal = MongoClient(self.uri, **CLIENT_DEFAULTS)
        self.info = self._describe(self.internal)
        self.kill_all_sessions()

    def _describe(self, client: MongoClient[dict[str, Any]]) -> ServerInfo:
        build = client.admin.command("buildInfo")
        version = tuple(build.get("versionArray", [])[:3]) or parse_version(build["version"])
        hello = client.admin.command("hello")
        if hello.get("msg") == "isdbgrid":
            topology = "load-balanced" if hello.get("serviceId") else "sharded"
        elif hello.get("setName"):
            topology = "replicaset"
        else:
            topology = "single"
        auth = "@" in self.uri.split("//", 1)[-1].split("/", 1)[0]
        serverless = os.environ.get("MONGOTX_SERVERLESS") == "1"
        members = len(hello.get("hosts", [])) + len(hello.get("passives", []))
        return ServerInfo(
            version,
            topology,  # type: ignore[arg-type]
            auth,
            serverless,
            csfle=False,
            members=members,
            get_parameters=self.parameters,
        )

    def parameters(self) -> dict[str, Any]:
        """`getParameter: '*'`, fetched once per deployment."""
        if self._parameters is None:
            assert self.internal is not None
            try:
                self._parameters = dict(self.internal.admin.command("getParameter", "*"))
            except OperationFailure:
                self._parameters = {}
        return self._parameters

    def kill_all_sessions(self) -> None:
        """Terminate open transactions (errors 11601, 13, 59 are ignored, as the spec allows)."""
        assert self.internal is not None
        try:
            self.internal.admin.command("killAllSessions", [])
        except OperationFailure as exc:
            if exc.code not in (11601, 13, 59):
                raise

    def close(self) -> None:
        if self.internal is not None:
            self.internal.close()
            self.internal = None
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None
        self._file = None
        self._parameters = None


_NON_PRIMARY = re.compile(r'"mode":\s*"(secondary|secondaryPreferred|nearest|primaryPreferred)"')


def needs_secondaries(path: Path) -> bool:
    """Whether a spec file names a read preference that selects non-primary members."""
    try:
        return bool(_NON_PRIMARY.search(path.read_text()))
    except OSError:
        return False

"""Special `testRunner` operations: fail points and runner-side assertions."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.synchronous.client_session import _TxnState

from .entities import EntityMap
from .matching import MatchError
from .requirements import Unsupported

_TXN_STATES = {
    _TxnState.NONE: "none",
    _TxnState.STARTING: "starting",
    _TxnState.IN_PROGRESS: "in_progress",
    _TxnState.COMMITTED: "committed",
    _TxnState.COMMITTED_EMPTY: "committed",
    _TxnState.ABORTED: "aborted",
}


class RunnerOps:
    """Executes `object: testRunner` operations; remembers fail points to disable later."""

    def __init__(
        self,
        entities: EntityMap,
        internal: MongoClient[dict[str, Any]],
        run_operations: Callable[[list[Mapping[str, Any]]], None],
    ) -> None:
        self.entities = entities
        self.internal = internal
        self.run_operations = run_operations
        self.fail_points: list[tuple[MongoClient[dict[str, Any]], str]] = []
        self.owned: list[MongoClient[dict[str, Any]]] = []  # targetedFailPoint's clients

    def run(self, name: str, args: Mapping[str, Any]) -> None:
        handler = getattr(self, f"op_{name}", None)
        if handler is None:
            raise Unsupported(f"runner lacks testRunner operation {name!r}")
        handler(**args)

    def _session(self, name: str) -> ClientSession:
        return self.entities.get(name, ClientSession)

    def op_failPoint(
        self, failPoint: Mapping[str, Any], client: str, session: str | None = None
    ) -> None:
        target = self.entities.get(client, MongoClient)
        target.admin.command(dict(failPoint))
        self.fail_points.append((target, failPoint["configureFailPoint"]))

    def op_targetedFailPoint(self, failPoint: Mapping[str, Any], session: str) -> None:
        """The fail point on the mongos the session is pinned to, through a client connected
        directly to it (unified test format: "targetedFailPoint")."""
        address = self._session(session)._pinned_address
        if address is None:
            raise MatchError("targetedFailPoint: session is not pinned to a mongos")
        host, port = address
        target: MongoClient[dict[str, Any]] = MongoClient(
            host, port, directConnection=True, serverSelectionTimeoutMS=5000
        )
        self.owned.append(target)
        target.admin.command(dict(failPoint))
        self.fail_points.append((target, failPoint["configureFailPoint"]))

    def disable_fail_points(self) -> list[str]:
        """Turn off every fail point this test set; return errors instead of raising."""
        problems = []
        for client, name in reversed(self.fail_points):
            errors = []
            for target in (client, self.internal):  # the entity client may be unusable
                try:
                    target.admin.command({"configureFailPoint": name, "mode": "off"})
                    break
                except Exception as exc:
                    errors.append(str(exc))
            else:
                problems.append(f"disabling fail point {name}: {errors[-1]}")
        self.fail_points.clear()
        for client in self.owned:
            client.close()
        self.owned.clear()
        return problems

    def op_assertSessionTransactionState(self, session: str, state: str) -> None:
        actual = _TXN_STATES.get(self._session(session)._transaction.state, "?")
        if actual != state:
            raise MatchError(f"expected transaction state {state}, got {actual}")

    def op_assertSessionPinned(self, session: str) -> None:
        # The transaction's pin, kept after commit until the next transaction or operation
        # (transactions spec: "Mongos Pinning"); pymongo's `_pinned_address` reads None once
        # the transaction is no longer active.
        if self._session(session)._transaction.pinned_address is None:
            raise MatchError("expected session to be pinned")

    def op_assertSessionUnpinned(self, session: str) -> None:
        if self._session(session)._transaction.pinned_address is not None:
            raise MatchError("expected session to be unpinned")

    def _dirty(self, session: str) -> bool:
        server_session = self._session(session)._server_session
        return bool(server_session is not None and server_session.dirty)

    def op_assertSessionDirty(self, session: str) -> None:
        if not self._dirty(session):
            raise MatchError("expected session to be dirty")

    def op_assertSessionNotDirty(self, session: str) -> None:
        if self._dirty(session):
            raise MatchError("expected session not to be dirty")

    def _last_two_lsids(self, client: str) -> tuple[Any, Any]:
        started = self.entities.logs[client].started_events
        if len(started) < 2:
            raise MatchError(f"fewer than two commands observed on {client}")
        first, second = (event.command.get("lsid") for event in started[-2:])
        if first is None or second is None:
            raise MatchError("one of the last two commands has no lsid")
        return first, second

    def op_assertSameLsidOnLastTwoCommands(self, client: str) -> None:
        first, second = self._last_two_lsids(client)
        if first != second:
            raise MatchError(f"expected the same lsid, got {first} and {second}")

    def op_assertDifferentLsidOnLastTwoCommands(self, client: str) -> None:
        first, second = self._last_two_lsids(client)
        if first == second:
            raise MatchError(f"expected different lsids, both are {first}")

    def _collections(self, database: str) -> list[str]:
        return self.internal[database].list_collection_names()

    def op_assertCollectionExists(self, databaseName: str, collectionName: str) -> None:
        if collectionName not in self._collections(databaseName):
            raise MatchError(f"expected collection {databaseName}.{collectionName} to exist")

    def op_assertCollectionNotExists(self, databaseName: str, collectionName: str) -> None:
        if collectionName in self._collections(databaseName):
            raise MatchError(f"expected collection {databaseName}.{collectionName} not to exist")

    def _indexes(self, database: str, collection: str) -> list[str]:
        return [i["name"] for i in self.internal[database][collection].list_indexes()]

    def op_assertIndexExists(self, databaseName: str, collectionName: str, indexName: str) -> None:
        if indexName not in self._indexes(databaseName, collectionName):
            raise MatchError(f"expected index {indexName} on {databaseName}.{collectionName}")

    def op_assertIndexNotExists(
        self, databaseName: str, collectionName: str, indexName: str
    ) -> None:
        if indexName in self._indexes(databaseName, collectionName):
            raise MatchError(f"expected no index {indexName} on {databaseName}.{collectionName}")

    def op_createEntities(self, entities: list[Mapping[str, Any]]) -> None:
        for spec in entities:
            self.entities.create(spec)

    def op_wait(self, ms: int) -> None:
        time.sleep(ms / 1000)

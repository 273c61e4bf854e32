"""The entity map: clients, databases, collections, sessions and saved results of one test."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.server_api import ServerApi
from pymongo.synchronous.change_stream import ChangeStream
from pymongo.synchronous.collection import Collection
from pymongo.synchronous.command_cursor import CommandCursor
from pymongo.synchronous.cursor import Cursor
from pymongo.synchronous.database import Database

from .events import EventLog
from .options import concerns, transaction_options
from .requirements import DriverLacks, Unsupported
from .target import CLIENT_DEFAULTS

_COLL_OPTIONS = ("readConcern", "writeConcern", "readPreference")
_CLIENT_KEYS = {
    "id",
    "uriOptions",
    "useMultipleMongoses",
    "observeEvents",
    "ignoreCommandMonitoringEvents",
    "observeSensitiveCommands",
    "serverApi",
}


class EntityMap:
    """Named objects of one test; `close()` ends sessions and closes cursors and clients."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._items: dict[str, Any] = {}
        self.logs: dict[str, EventLog] = {}
        self.lsids: dict[str, Mapping[str, Any]] = {}
        self.session_client: dict[str, str] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def add(self, name: str, value: Any) -> None:
        if name in self._items:
            raise Unsupported(f"entity {name!r} already exists")
        self._items[name] = value

    def get(self, name: str, kind: type | tuple[type, ...] | None = None) -> Any:
        if name not in self._items:
            raise KeyError(f"no entity named {name!r}")
        value = self._items[name]
        if kind is not None and not isinstance(value, kind):
            raise TypeError(f"entity {name!r} is a {type(value).__name__}, not {kind}")
        return value

    def lookup(self, name: str) -> Any:
        """Resolve a name for the matcher (`lsid:<session>` gives a session's lsid)."""
        if name.startswith("lsid:"):
            return self.lsids[name[5:]]
        return self.get(name)

    def create(self, spec: Mapping[str, Any]) -> None:
        """Create one `{<type>: {...}}` entity."""
        ((kind, opts),) = spec.items()
        maker = getattr(self, f"_make_{kind}", None)
        if maker is None:
            raise Unsupported(f"runner lacks entity type {kind!r}")
        self.add(opts["id"], maker(opts))

    def _make_client(self, opts: Mapping[str, Any]) -> MongoClient[dict[str, Any]]:
        unknown = set(opts) - _CLIENT_KEYS
        if unknown:
            raise Unsupported(f"runner lacks client option(s) {sorted(unknown)}")
        kwargs: dict[str, Any] = dict(CLIENT_DEFAULTS)
        for key, value in opts.get("uriOptions", {}).items():
            if isinstance(value, Mapping) and "$$placeholder" in value:
                raise Unsupported(f"runner cannot fill $$placeholder for uriOption {key}")
            kwargs[key] = value
        if "serverApi" in opts:
            api = opts["serverApi"]
            kwargs["server_api"] = ServerApi(
                api["version"],
                strict=api.get("strict"),
                deprecation_errors=api.get("deprecationErrors"),
            )
        log = EventLog(
            opts.get("observeEvents", []),
            opts.get("ignoreCommandMonitoringEvents"),
            opts.get("observeSensitiveCommands", False),
        )
        self.logs[opts["id"]] = log
        return MongoClient(self._uri_for(opts), event_listeners=[log], **kwargs)

    def _uri_for(self, opts: Mapping[str, Any]) -> str:
        """Every mongos of the URI only with useMultipleMongoses: true; otherwise the first
        (unified test format: "useMultipleMongoses", default false)."""
        if opts.get("useMultipleMongoses") or "," not in self.uri or "replicaSet=" in self.uri:
            return self.uri
        scheme, _, rest = self.uri.partition("://")
        hosts, sep, tail = rest.partition("/")
        return f"{scheme}://{hosts.split(',')[0]}{sep}{tail}"

    def _make_database(self, opts: Mapping[str, Any]) -> Database[dict[str, Any]]:
        client = self.get(opts["client"], MongoClient)
        extra = concerns(opts.get("databaseOptions", {}), allowed=_COLL_OPTIONS)
        return client.get_database(opts["databaseName"], **extra)

    def _make_collection(self, opts: Mapping[str, Any]) -> Collection[dict[str, Any]]:
        database = self.get(opts["database"], Database)
        extra = concerns(opts.get("collectionOptions", {}), allowed=_COLL_OPTIONS)
        return database.get_collection(opts["collectionName"], **extra)

    def _make_session(self, opts: Mapping[str, Any]) -> ClientSession:
        client = self.get(opts["client"], MongoClient)
        kwargs: dict[str, Any] = {}
        for key, value in opts.get("sessionOptions", {}).items():
            if key == "causalConsistency":
                kwargs["causal_consistency"] = value
            elif key == "snapshot":
                kwargs["snapshot"] = value
            elif key == "defaultTransactionOptions":
                kwargs["default_transaction_options"] = transaction_options(value)
            elif key == "snapshotTime":
                # A snapshot session reading at a given time (a saved getSnapshotTime result).
                if "snapshot_time" not in inspect.signature(client.start_session).parameters:
                    raise DriverLacks(
                        "start_session(snapshot_time=...) (sessionOptions.snapshotTime)"
                    )
                kwargs["snapshot_time"] = self.lookup(value) if isinstance(value, str) else value
            else:
                raise Unsupported(f"runner lacks sessionOptions.{key}")
        session = client.start_session(**kwargs)
        self.lsids[opts["id"]] = session.session_id
        self.session_client[opts["id"]] = opts["client"]
        return session

    def sessions(self) -> list[ClientSession]:
        return [v for v in self._items.values() if isinstance(v, ClientSession)]

    def stop_events(self) -> None:
        for log in self.logs.values():
            log.enabled = False

    def close(self) -> None:
        """End sessions, close cursors/change streams, then clients (events already off)."""
        self.stop_events()
        for value in self._items.values():
            if isinstance(value, ClientSession):
                _quietly(value.end_session)
            elif isinstance(value, ChangeStream | Cursor | CommandCursor):
                _quietly(value.close)
        for value in self._items.values():
            if isinstance(value, MongoClient):
                _quietly(value.close)
        self._items.clear()


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception:
        pass

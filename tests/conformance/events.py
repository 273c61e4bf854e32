"""Record a client's command monitoring and CMAP events, and match them against expectations."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pymongo import monitoring

from .matching import Matcher, MatchError
from .requirements import Unsupported

SENSITIVE = {
    "authenticate",
    "saslstart",
    "saslcontinue",
    "getnonce",
    "createuser",
    "updateuser",
    "copydbgetnonce",
    "copydbsaslstart",
    "copydb",
}
COMMAND_EVENTS = {
    monitoring.CommandStartedEvent: "commandStartedEvent",
    monitoring.CommandSucceededEvent: "commandSucceededEvent",
    monitoring.CommandFailedEvent: "commandFailedEvent",
}
CMAP_EVENTS = {
    "pool_created": "poolCreatedEvent",
    "pool_ready": "poolReadyEvent",
    "pool_cleared": "poolClearedEvent",
    "pool_closed": "poolClosedEvent",
    "connection_created": "connectionCreatedEvent",
    "connection_ready": "connectionReadyEvent",
    "connection_closed": "connectionClosedEvent",
    "connection_check_out_started": "connectionCheckOutStartedEvent",
    "connection_check_out_failed": "connectionCheckOutFailedEvent",
    "connection_checked_out": "connectionCheckedOutEvent",
    "connection_checked_in": "connectionCheckedInEvent",
}


class EventLog(monitoring.CommandListener, monitoring.ConnectionPoolListener):
    """Events of one client entity, filtered as `observeEvents` and friends say."""

    def __init__(
        self, observe: list[str], ignore: list[str] | None = None, sensitive: bool = False
    ) -> None:
        unknown = set(observe) - set(COMMAND_EVENTS.values()) - set(CMAP_EVENTS.values())
        if unknown:
            raise Unsupported(f"runner cannot observe {sorted(unknown)}")
        self.observe = set(observe)
        self.ignore = {name.lower() for name in ignore or []} | {"configurefailpoint"}
        self.sensitive = sensitive
        self.enabled = True
        self.events: list[tuple[str, Any]] = []
        self.started_events: list[monitoring.CommandStartedEvent] = []
        self._hidden: set[int] = set()
        self._lock = threading.Lock()

    def _is_hidden(self, event: Any) -> bool:
        name = event.command_name.lower()
        if name in self.ignore:
            return True
        if self.sensitive:
            return False
        if isinstance(event, monitoring.CommandStartedEvent):
            redacted = name in ("hello", "ismaster") and not event.command
            if name in SENSITIVE or redacted:
                self._hidden.add(event.request_id)
                return True
            return False
        return name in SENSITIVE or event.request_id in self._hidden

    def _command(self, event: Any) -> None:
        with self._lock:
            if not self.enabled or self._is_hidden(event):
                return
            if isinstance(event, monitoring.CommandStartedEvent):
                self.started_events.append(event)
            kind = COMMAND_EVENTS[type(event)]
            if kind in self.observe:
                self.events.append((kind, event))

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._command(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._command(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._command(event)

    def _cmap(self, kind: str, event: Any) -> None:
        with self._lock:
            if self.enabled and kind in self.observe:
                self.events.append((kind, event))


def _cmap_method(kind: str) -> Any:
    def handler(self: EventLog, event: Any) -> None:
        self._cmap(kind, event)

    return handler


for _method, _kind in CMAP_EVENTS.items():
    setattr(EventLog, _method, _cmap_method(_kind))


def _check_flag(flag: bool, value: Any, what: str) -> None:
    has = bool(value) and value != 0
    if flag != has:
        raise MatchError(f"expected {what}={flag}, event has {value!r}")


def match_event(matcher: Matcher, expected: Mapping[str, Any], kind: str, event: Any) -> None:
    """Raise `MatchError` unless the recorded `(kind, event)` matches one `expectedEvent`."""
    ((want_kind, want),) = expected.items()
    if want_kind != kind:
        raise MatchError(f"expected {want_kind}, got {kind} ({getattr(event, 'command_name', '')})")
    for key, value in want.items():
        if key == "command":
            matcher.match(value, event.command, path="command")
        elif key == "reply":
            matcher.match(value, event.reply, path="reply")
        elif key == "commandName":
            if event.command_name != value:
                raise MatchError(f"expected commandName {value}, got {event.command_name}")
        elif key == "databaseName":
            if event.database_name != value:
                raise MatchError(f"expected databaseName {value}, got {event.database_name}")
        elif key == "hasServiceId":
            _check_flag(value, event.service_id, "hasServiceId")
        elif key == "hasServerConnectionId":
            _check_flag(value, event.server_connection_id, "hasServerConnectionId")
        elif key == "reason":
            if getattr(event, "reason", None) != value:
                raise MatchError(f"expected reason {value}, got {getattr(event, 'reason', None)}")
        elif key == "interruptInUseConnections":
            if getattr(event, "interrupt_connections", None) != value:
                raise MatchError(f"expected interruptInUseConnections={value}")
        else:
            raise Unsupported(f"runner lacks event assertion {want_kind}.{key}")


def describe(kind: str, event: Any) -> str:
    """One short line per recorded event, for failure messages."""
    name = getattr(event, "command_name", "")
    return f"{kind}({name})" if name else kind

"""What the application proxy (`mongotx-tui proxy`) observes, handed from the proxy to the
live view and to a capture: each command an application sent through it and the reply
the upstream gave, and its connections coming and going.

The proxy fills these after it has forwarded the frame (decoding is never on the
forwarding path) and calls a `ProxyObserver` on its own thread; a UI hops to its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .monitor import CommandRecord


@dataclass
class ProxyRecord(CommandRecord):
    """One command an application sent through the proxy, and its reply. `command` and
    `reply` are the decoded OP_MSG bodies (document sequences folded in), with the
    credentials of authentication commands removed (`sensitive`)."""

    conn_id: int = 0  # the proxy's number for the client connection it came on
    peer: str = ""  # the client's address, host:port
    app_name: str = ""  # the client's `appName` from its handshake, if it gave one
    expects_reply: bool = True  # False: moreToCome was set (w:0 write, exhaust)


ConnectionKind = Literal["open", "closed", "upstream-down", "upstream-closed"]


@dataclass(frozen=True)
class ConnectionNotice:
    """A client connection opened or closed, or the upstream could not be reached."""

    conn_id: int
    kind: ConnectionKind
    peer: str = ""
    message: str = ""  # one sentence for the view, e.g. why the upstream is down


class ProxyObserver(Protocol):
    """Told what passes through the proxy, in the order the proxy saw it."""

    def command(self, record: ProxyRecord) -> None:
        """A command was forwarded upstream (its `reply` is not in yet)."""

    def reply(self, record: ProxyRecord) -> None:
        """The same record, now with its `reply`, or `failure` when none came."""

    def connection(self, notice: ConnectionNotice) -> None:
        """A client connection came or went, or the upstream failed."""

"""The headless proxy's output: one line per statement once its reply is in (or at once
when none will come), and a line when a connection fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from queue import Empty, SimpleQueue

from ...model.proxy_records import ConnectionNotice, ProxyRecord

# The driver's own traffic (monitoring, handshakes): not the application's statements.
QUIET = frozenset({"hello", "ismaster"})
PLAIN_CLOSE = "the client closed its connection"


def statement_line(r: ProxyRecord) -> str:
    """`21:40:01.123 conn 3 myapp · session 1a2b3c4d txn 2 · update bank.accounts · ok
    · 1.2 ms`, with `attempt 2` for a driver's retry."""
    when = dt.datetime.fromtimestamp(r.at).strftime("%H:%M:%S.%f")[:-3]
    who = f"conn {r.conn_id}" + (f" {r.app_name}" if r.app_name else "")
    session = f"session {r.lsid}" if r.lsid else "no session"
    if r.txn_number is not None:
        session += f" txn {r.txn_number}"
    target = r.command.get(r.name)
    what = r.name
    if isinstance(target, str) and r.database and not r.sensitive:
        what += f" {r.database}.{target}"
    elif r.database:
        what += f" ({r.database})"
    if r.command.get("startTransaction"):
        what += " startTransaction"
    parts = [f"{when} {who}", session, what]
    if r.attempt > 1:
        parts.append(f"attempt {r.attempt}")
    parts.append(r.outcome() if r.expects_reply else "sent, no reply expected (moreToCome)")
    if r.duration_ms is not None:
        parts.append(f"{r.duration_ms:.1f} ms")
    return " · ".join(parts)


class LinePrinter:
    """A ProxyObserver that prints. On the proxy's thread it only makes the line (after the
    frame is written) and queues it; `drain()` writes the lines queued so far, from the
    caller's thread (the headless command's main thread, every 0.1 s), so that a write to
    a terminal or a slow pipe never delays a frame."""

    def __init__(self, out: Callable[[str], None], quiet: frozenset[str] = QUIET) -> None:
        self.out = out
        self.quiet = quiet
        self._queue: SimpleQueue[str] = SimpleQueue()

    def command(self, record: ProxyRecord) -> None:
        if not record.expects_reply and record.name.lower() not in self.quiet:
            self._queue.put(statement_line(record))

    def reply(self, record: ProxyRecord) -> None:
        if record.name.lower() not in self.quiet:
            self._queue.put(statement_line(record))

    def connection(self, notice: ConnectionNotice) -> None:
        if notice.kind == "open" or (notice.kind == "closed" and notice.message == PLAIN_CLOSE):
            return
        self._queue.put(f"conn {notice.conn_id} {notice.peer}: {notice.kind}: {notice.message}")

    def drain(self) -> int:
        """Hand the queued lines to `out`, one call for all; how many."""
        lines: list[str] = []
        while True:
            try:
                lines.append(self._queue.get_nowait())
            except Empty:
                break
        if lines:
            self.out("\n".join(lines))
        return len(lines)

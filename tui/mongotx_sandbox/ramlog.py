"""The server log as `getLog` returns it: the last lines, in memory, as mongod's RamLog
keeps them for the log named "global" [srv:logv2/ramlog.h, ramlog.cpp].

Lines are mongod's structured JSON log lines (manual: reference/log-messages, "Structured
Logging"): `t`, `s`, `c`, `id`, `ctx`, `msg`, `attr`.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

from bson import json_util

# mongod keeps the last 1024 lines of each RamLog, and at most 1 MiB of them (dropping the
# oldest, but never the last line) [srv:logv2/ramlog.cpp RamLog::write, _trimIfNeeded].
MAX_LINES = 1024
MAX_BYTES = 1024 * 1024
# The logs getLog knows: "global" (every line) and "startupWarnings" (none here).
NAMES = ("global", "startupWarnings")
_JSON = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)


class RamLog:
    """One bounded log: its last MAX_LINES lines and how many were ever written."""

    def __init__(self, max_lines: int = MAX_LINES, max_bytes: int = MAX_BYTES) -> None:
        self.lines: deque[str] = deque(maxlen=max_lines)
        self.max_bytes = max_bytes
        self.size = 0  # bytes held (the lines' lengths)
        self.total_written = 0

    def write(self, id_: int, msg: str, attr: dict[str, Any], *, component: str, ctx: str) -> str:
        """Append one line (severity I) and return it."""
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+00:00"
        entry = {
            "t": {"$date": stamp},
            "s": "I",
            "c": component,
            "id": id_,
            "ctx": ctx,
            "msg": msg,
            "attr": attr,
        }
        line = json_util.dumps(entry, json_options=_JSON, separators=(",", ":"))
        self.append(line)
        return line

    def append(self, line: str) -> None:
        lines = self.lines
        while lines and (
            len(lines) == lines.maxlen
            or (len(lines) > 1 and self.size + len(line) > self.max_bytes)
        ):
            self.size -= len(lines.popleft())
        lines.append(line)
        self.size += len(line)
        self.total_written += 1

    def clear(self) -> None:
        """clearLog: the lines go, and the count of lines written restarts at 0
        [srv:logv2/ramlog.cpp RamLog::clear]."""
        self.lines.clear()
        self.size = 0
        self.total_written = 0


class ServerLogs:
    """The server's RamLogs by name."""

    def __init__(self) -> None:
        self.logs = {name: RamLog() for name in NAMES}

    @property
    def global_log(self) -> RamLog:
        return self.logs["global"]


def logs(state: Any) -> ServerLogs:
    """The server's logs, made on first use."""
    found = state.ramlog
    if found is None:
        found = state.ramlog = ServerLogs()
    return found

"""What `--record` keeps: every record, in the order the proxy forwarded the commands (the
order the upstream received them), filled in as replies arrive."""

from __future__ import annotations

import threading
from collections import deque

from ...model.proxy_records import ConnectionNotice, ProxyRecord

LIMIT = 100_000  # records kept; past it the oldest go (a capture is a window of traffic)


class Collector:
    """A ProxyObserver keeping records between `start()` and `stop()` (on from the start
    unless `recording=False`)."""

    def __init__(self, recording: bool = True, limit: int = LIMIT) -> None:
        self.recording = recording
        self.limit = limit
        self.dropped = 0
        self._records: deque[ProxyRecord] = deque()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.recording = True

    def stop(self) -> None:
        self.recording = False

    def records(self) -> list[ProxyRecord]:
        with self._lock:
            return list(self._records)

    def command(self, record: ProxyRecord) -> None:
        if not self.recording:
            return
        with self._lock:
            self._records.append(record)
            if len(self._records) > self.limit:
                self._records.popleft()
                self.dropped += 1

    def reply(self, record: ProxyRecord) -> None:
        pass  # the record in the list is the same object, now with its reply

    def connection(self, notice: ConnectionNotice) -> None:
        pass

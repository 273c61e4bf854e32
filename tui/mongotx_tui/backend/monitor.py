"""The command monitor's listener: pymongo's command monitoring (the driver specification
"Command Logging and Monitoring") fills the model's CommandLog, each command attributed to
the lane whose session sent it and to the step that lane was running."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring

from ..model.monitor import CommandLog, CommandRecord


@dataclass
class StepTag:
    """What a lane is running now, for the commands its session sends meanwhile."""

    step_id: int
    label: str
    workbench: bool = False  # the workbench's own read on the lane's session


class CommandMonitor(monitoring.CommandListener):
    """Listens on the app's client. pymongo calls it on the event loop's thread, as each
    command is sent and as its reply (or failure) arrives."""

    def __init__(
        self,
        lane_of: Callable[[str], tuple[int, str] | None],
        on_change: Callable[[], None],
        clock: Callable[[], float] = time.time,
        perf: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`clock` stamps each command, `perf` times it (the workbench's own clocks, the
        ones its timeline uses: frozen in snapshot tests)."""
        self.log = CommandLog()
        self.clock, self.perf = clock, perf
        self._sent_at: dict[int, float] = {}  # record seq → perf time it was sent
        self.lane_of = lane_of  # lsid hex → (lane id, lane name), or None
        self.on_change = on_change
        self.tags: dict[int, StepTag] = {}  # lane id → what it runs now
        self._open: dict[tuple[Any, int], CommandRecord] = {}
        self._steps = 0

    # -- tagging (the workbench says what each lane runs) ---------------------------------
    @contextmanager
    def tagging(self, lane_id: int, label: str, workbench: bool = False) -> Iterator[StepTag]:
        self._steps += 1
        tag = StepTag(self._steps, label, workbench)
        previous = self.tags.get(lane_id)
        self.tags[lane_id] = tag
        try:
            yield tag
        finally:
            if previous is None:
                self.tags.pop(lane_id, None)
            else:
                self.tags[lane_id] = previous

    def retries(self, tag: StepTag) -> int:
        """How many times the driver sent a statement of this step again: a retried commit
        or retryable write (the same lsid, txnNumber and command), and a
        `with_transaction` callback run again (a new txnNumber in the same step)."""
        records = self.log.of_step(tag.step_id)
        resent = sum(1 for r in records if r.attempt > 1)
        txns = {r.txn_number for r in records if r.command.get("startTransaction")}
        return resent + max(0, len(txns) - 1)

    def _took(self, record: CommandRecord) -> float:
        """From sent to answered, on the workbench's clock (pymongo's own duration_micros
        measures the same interval, on a clock the tests cannot hold still)."""
        return (self.perf() - self._sent_at.pop(record.seq, self.perf())) * 1000

    # -- pymongo's events ----------------------------------------------------------------
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = dict(event.command)
        record = CommandRecord(0, self.clock(), event.command_name, event.database_name, command)
        lsid = command.get("lsid")
        raw = lsid.get("id") if isinstance(lsid, dict) else None
        lane = self.lane_of(raw.hex()) if isinstance(raw, bytes | bytearray) else None
        if lane is not None:
            record.lane_id, record.lane = lane
            tag = self.tags.get(lane[0])
            if tag is not None:
                record.step, record.step_id, record.workbench = (
                    tag.label,
                    tag.step_id,
                    tag.workbench,
                )
        if isinstance(event.connection_id, tuple):  # (host, port): which member answers
            record.address = "{}:{}".format(*event.connection_id)
        self.log.add(record)
        self._sent_at[record.seq] = self.perf()
        self._open[(event.connection_id, event.request_id)] = record
        self.on_change()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        record = self._open.pop((event.connection_id, event.request_id), None)
        if record is not None:
            record.reply = dict(event.reply)
            record.duration_ms = self._took(record)
            self.on_change()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        record = self._open.pop((event.connection_id, event.request_id), None)
        if record is None:
            return
        record.duration_ms = self._took(record)
        failure = event.failure
        if isinstance(failure, dict) and ("ok" in failure or "code" in failure):
            record.reply = dict(failure)  # the server's error reply
        elif isinstance(failure, dict):  # a network error: no reply came
            record.failure = f"{failure.get('errtype', 'error')}: {failure.get('errmsg', '')}"
        else:
            record.failure = str(failure)
        self.on_change()

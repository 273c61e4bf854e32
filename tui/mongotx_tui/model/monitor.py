"""The command monitor's record: every command the workbench's client sent and what the
server answered, as pymongo's command monitoring reported them (backend/monitor.py)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# How many commands the monitor keeps (the oldest go first).
KEEP = 10_000

# Commands whose body and reply pymongo's monitoring already empties (the driver
# specification "Command Logging and Monitoring": security-sensitive commands); we say so
# rather than show an empty document as if it were what was sent.
SENSITIVE = frozenset(
    {
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
)


# The commands a driver retries once as a retryable read, after a network error or a
# retryable error [manual: Retryable Reads, "Retryable Read Operations": find, aggregate
# without $out or $merge, count, distinct, and the enumerations listDatabases,
# listCollections, listIndexes]. Outside a transaction only: a transaction's statements
# are never retried.
RETRYABLE_READS = frozenset(
    {"find", "aggregate", "count", "distinct", "listDatabases", "listCollections", "listIndexes"}
)
# What a read's retry may change: a new server selection gossips a newer cluster time.
RESENT_FIELDS = frozenset({"$clusterTime", "$readPreference"})


class ReadRetries:
    """Which attempt of a retryable read a command is: the retry resends the same command on
    the same session (lsid) right after its first attempt failed. Without the failure, the
    same read sent again is a new statement."""

    def __init__(self) -> None:
        self._last: dict[bytes, tuple[dict[str, Any], CommandRecord]] = {}

    @staticmethod
    def _statement(name: str, command: dict[str, Any]) -> tuple[bytes, dict[str, Any]] | None:
        if name not in RETRYABLE_READS or "txnNumber" in command:
            return None
        if name == "aggregate":
            pipeline = command.get("pipeline")
            last = pipeline[-1] if isinstance(pipeline, list) and pipeline else None
            if isinstance(last, dict) and ("$out" in last or "$merge" in last):
                return None
        lsid = command.get("lsid")
        raw = lsid.get("id") if isinstance(lsid, dict) else None
        if not isinstance(raw, bytes | bytearray):
            return None
        return bytes(raw), {k: v for k, v in command.items() if k not in RESENT_FIELDS}

    def previous(self, name: str, command: dict[str, Any]) -> CommandRecord | None:
        """The failed attempt this command retries, if it is one."""
        statement = self._statement(name, command)
        if statement is None:
            return None
        last = self._last.get(statement[0])
        if last is None or last[0] != statement[1] or last[1].ok is not False:
            return None
        return last[1]

    def remember(self, record: CommandRecord) -> None:
        statement = self._statement(record.name, record.command)
        if statement is None:
            return
        if len(self._last) > KEEP:  # a long run: the sessions seen longest ago go
            for old in list(self._last)[: KEEP // 2]:
                del self._last[old]
        self._last[statement[0]] = (statement[1], record)


@dataclass
class CommandRecord:
    """One command and its reply (or failure)."""

    seq: int  # its place in the log
    at: float  # wall time it was sent
    name: str  # the command's name (find, commitTransaction, …)
    database: str
    command: dict[str, Any]  # as sent (empty for a sensitive command)
    lane_id: int | None = None  # the lane whose session sent it; None: the workbench itself
    lane: str = ""  # that lane's name
    step: str = ""  # the lane step it belongs to
    step_id: int = 0  # which run of that step (steps with the same words stay apart)
    workbench: bool = False  # sent on a lane's session for the workbench's own reads
    attempt: int = 1  # 2+: the driver sent it again (a retry of the same statement)
    reply: dict[str, Any] | None = None
    failure: str = ""  # a network error or the like: no reply came
    duration_ms: float | None = None
    address: str = ""  # host:port of the member the connection was to (pymongo's connection_id)

    @property
    def internal(self) -> bool:
        """Sent for the workbench's own panels and views, not by a lane's step."""
        return self.lane_id is None or self.workbench

    @property
    def sensitive(self) -> bool:
        return self.name.lower() in SENSITIVE

    @property
    def lsid(self) -> str:
        lsid = self.command.get("lsid")
        raw = lsid.get("id") if isinstance(lsid, dict) else None
        return raw.hex()[:8] if isinstance(raw, bytes | bytearray) else ""

    @property
    def txn_number(self) -> int | None:
        value = self.command.get("txnNumber")
        return int(value) if value is not None else None

    @property
    def pending(self) -> bool:
        return self.reply is None and not self.failure

    @property
    def ok(self) -> bool | None:
        if self.reply is None:
            return None if self.pending else False
        return bool(self.reply.get("ok"))

    def retry_key(self) -> tuple[Any, ...] | None:
        """What two attempts of one statement share: the session, the transaction number
        and the command (a retried commit or retryable write resends exactly these)."""
        if self.txn_number is None or not self.lsid:
            return None
        return (self.lsid, self.txn_number, self.name, self.step_id)

    def outcome(self) -> str:
        """`ok`, `… pending`, `no reply: …` or `112 WriteConflict [TransientTransactionError]`."""
        if self.pending:
            return "… pending"
        if self.reply is None:
            return f"no reply: {self.failure}"
        reply = self.reply
        labels = reply.get("errorLabels") or []
        suffix = f" [{', '.join(labels)}]" if labels else ""
        if reply.get("ok"):
            wce = reply.get("writeConcernError")
            if isinstance(wce, dict):
                return f"ok · writeConcernError {wce.get('code')} {wce.get('codeName', '')}{suffix}"
            errors = reply.get("writeErrors")
            if isinstance(errors, list) and errors:
                first = errors[0]
                return f"ok · writeErrors {first.get('code')} {first.get('codeName', '')}{suffix}"
            return "ok" + suffix
        return f"{reply.get('code', '')} {reply.get('codeName', '')}".strip() + suffix

    def concerns(self) -> str:
        """`startTransaction rc:snapshot wc:majority` and the like: the transaction fields
        and concerns the command carried."""
        cmd = self.command
        parts = []
        if cmd.get("startTransaction"):
            parts.append("startTransaction")
        if cmd.get("autocommit") is False and not cmd.get("startTransaction"):
            parts.append("autocommit:false")
        rc = cmd.get("readConcern")
        if isinstance(rc, dict) and rc:
            text = f"rc:{rc.get('level', '')}"
            if "atClusterTime" in rc:
                text += f"@{_ts(rc['atClusterTime'])}"
            if "afterClusterTime" in rc:
                text += f" after {_ts(rc['afterClusterTime'])}"
            parts.append(text)
        wc = cmd.get("writeConcern")
        if isinstance(wc, dict) and wc:
            parts.append("wc:" + ",".join(f"{k}={v}" for k, v in wc.items() if k != "w") or "")
            if "w" in wc:
                parts[-1] = f"wc:{wc['w']}" + parts[-1][3:]
        return " ".join(p for p in parts if p)


def _ts(value: Any) -> str:
    time, inc = getattr(value, "time", None), getattr(value, "inc", None)
    return f"{time}.{inc}" if time is not None else str(value)


@dataclass
class CommandLog:
    """The monitor's bounded list of commands, newest last."""

    records: deque[CommandRecord] = field(default_factory=lambda: deque(maxlen=KEEP))
    _next: int = 0
    _attempts: dict[tuple[Any, ...], int] = field(default_factory=dict)
    _reads: ReadRetries = field(default_factory=ReadRetries)
    # step_id → its records still kept, oldest first: each lane step asks for its own
    # commands when it ends, and a scan of 10 000 records per keypress showed in the
    # keypress → timeline row benchmark
    _by_step: dict[int, list[CommandRecord]] = field(default_factory=dict)

    def add(self, record: CommandRecord) -> CommandRecord:
        """Append a sent command, numbering it as a retry when it repeats an earlier
        attempt of the same statement."""
        if self.records.maxlen is not None and len(self.records) == self.records.maxlen:
            self._forget(self.records[0])  # the append below drops it
        self._next += 1
        record.seq = self._next
        key = record.retry_key()
        if key is not None:
            record.attempt = self._attempts.get(key, 0) + 1
            if len(self._attempts) > KEEP:
                self._attempts.clear()
            self._attempts[key] = record.attempt
        else:
            first = self._reads.previous(record.name, record.command)
            if first is not None and first.step_id == record.step_id:
                record.attempt = first.attempt + 1
            self._reads.remember(record)
        self.records.append(record)
        if record.step_id:
            self._by_step.setdefault(record.step_id, []).append(record)
        return record

    def _forget(self, oldest: CommandRecord) -> None:
        kept = self._by_step.get(oldest.step_id)
        if kept and kept[0] is oldest:
            del kept[0]
            if not kept:
                del self._by_step[oldest.step_id]

    def of_step(self, step_id: int) -> list[CommandRecord]:
        """The kept records of one run of a lane step (StepTag.step_id), oldest first."""
        return list(self._by_step.get(step_id, ())) if step_id else []

    def __iter__(self) -> Iterator[CommandRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def shown(self, lane_id: int | None = None, internal: bool = False) -> list[CommandRecord]:
        """The records the monitor lists: one lane's, or all lanes' (and the workbench's
        own when `internal`)."""
        return [
            r
            for r in self.records
            if (internal or not r.internal) and (lane_id is None or r.lane_id == lane_id)
        ]

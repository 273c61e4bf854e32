"""An application's sessions as the proxy saw them (issue 12 item 2): its ProxyRecords and
ConnectionNotices folded by lsid into sessions, their transactions and statements, for the
live view's read-only lanes, timeline and command monitor."""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .error_info import TRANSIENT, UNKNOWN_COMMIT, statement_aborts
from .lanes import LANE_COLOURS
from .literals import format_short
from .monitor import CommandLog
from .proxy_records import ConnectionNotice, ProxyRecord
from .timeline import EventKind, Timeline

KEEP_STATEMENTS = 50  # per session; older ones are counted, not kept
MAX_SESSIONS = 500  # sessions remembered; past it the longest finished (else idle) go
NO_REPLY = "none expected (moreToCome)"
IDLE_S = 60.0  # a session with nothing open and no command for this long is idle
WRITE_CONFLICT = 112

# Commands that carry no statement of the application: the handshake, the driver's own
# monitoring and authentication (they still show in the command monitor).
NOT_STATEMENTS = frozenset(
    {"hello", "ismaster", "saslstart", "saslcontinue", "authenticate", "getnonce", "endsessions"}
)
# The write commands and where each keeps the documents it writes (the filters or the
# documents themselves), for naming who holds a document in a WriteConflict.
WRITES = {"insert": "documents", "update": "updates", "delete": "deletes"}
ENDS = {"committransaction": "commit", "aborttransaction": "abort"}


class TxnStatus(StrEnum):
    OPEN = "open"
    COMMITTED = "committed"
    ABORTED = "aborted"  # by the application (abortTransaction)
    SERVER_ABORTED = "server aborted"  # an error aborted it; its commit will fail
    COMMIT_UNKNOWN = "commit unknown"  # UnknownTransactionCommitResult: may have applied


@dataclass
class Statement:
    """One command of a session and its reply (or `running` until it comes)."""

    record: ProxyRecord
    txn: int | None  # the transaction it belongs to (None: outside any)
    conflict_with: str = ""  # a WriteConflict: who holds the document, in words
    conflict_short: str = ""  # that holder as the timeline names it: `S2 (txn 1)`

    @property
    def running(self) -> bool:
        return self.record.pending and self.record.expects_reply

    @property
    def attempt(self) -> int:
        return self.record.attempt

    @property
    def error(self) -> dict[str, Any] | None:
        """The server's error: the reply itself when not ok, else its first write error
        or its writeConcernError."""
        reply = self.record.reply
        if reply is None:
            return None
        if not reply.get("ok"):
            return reply
        errors = reply.get("writeErrors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
        wce = reply.get("writeConcernError")
        return wce if isinstance(wce, dict) else None

    @property
    def code(self) -> int | None:
        error = self.error
        code = error.get("code") if error is not None else None
        return int(code) if isinstance(code, int) else None

    @property
    def code_name(self) -> str:
        error = self.error
        return str(error.get("codeName", "")) if error is not None else ""

    @property
    def labels(self) -> tuple[str, ...]:
        reply = self.record.reply or {}
        return tuple(str(label) for label in reply.get("errorLabels") or ())

    @property
    def ok(self) -> bool:
        return self.record.reply is not None and self.error is None

    def outcome(self) -> str:
        """The monitor's outcome words, with the conflict's holder before the labels (a
        narrow cell cuts the end)."""
        if self.conflict_short:
            labels = f" [{', '.join(self.labels)}]" if self.labels else ""
            return f"{self.code} {self.code_name} ↔ {self.conflict_short}{labels}"
        return self.record.outcome()

    def describe(self) -> str:
        return describe(self.record)


@dataclass
class AppTxn:
    """One transaction of a session (its txnNumber)."""

    number: int
    started_at: float
    status: TxnStatus = TxnStatus.OPEN
    statements: int = 0
    ended_at: float | None = None
    retry_of: int | None = None  # the transaction it retries (after a transient error)
    transient: bool = False  # it failed with TransientTransactionError
    # the documents its successful writes touched: (namespace, _id or filter as text)
    writes: set[tuple[str, str]] = field(default_factory=set)

    @property
    def open(self) -> bool:
        return self.status is TxnStatus.OPEN


@dataclass
class AppSession:
    """One application session (one lsid), as a read-only lane."""

    lsid: str  # the full id, hex
    name: str  # S1, S2, … in the order the proxy first saw them
    colour: str
    first_at: float
    last_at: float
    keep: int = KEEP_STATEMENTS
    app_name: str = ""
    peers: set[str] = field(default_factory=set)
    databases: set[str] = field(default_factory=set)
    statements: deque[Statement] = field(default_factory=deque)
    dropped: int = 0  # statements no longer kept (the oldest)
    total: int = 0
    txns: dict[int, AppTxn] = field(default_factory=dict)
    ended: bool = False  # the application ended it (endSessions)
    _in_txn: dict[int, int] = field(default_factory=dict)  # statements per txnNumber

    @property
    def short(self) -> str:
        return self.lsid[:8]

    @property
    def txn(self) -> AppTxn | None:
        """The newest transaction."""
        return self.txns[max(self.txns)] if self.txns else None

    @property
    def open_txn(self) -> AppTxn | None:
        txn = self.txn
        return txn if txn is not None and txn.open else None

    @property
    def running(self) -> list[Statement]:
        return [s for s in self.statements if s.running]

    def idle(self, now: float, idle_s: float = IDLE_S) -> bool:
        return self.open_txn is None and not self.running and now - self.last_at >= idle_s

    def finished(self, now: float, idle_s: float = IDLE_S) -> bool:
        return self.ended or self.idle(now, idle_s)

    def state(self, now: float, idle_s: float = IDLE_S) -> str:
        """`ended`, `idle`, `in txn 3`, `running` or `active`."""
        if self.ended:
            return "ended"
        if self.running:
            return "running"
        if self.open_txn is not None:
            return f"in txn {self.open_txn.number}"
        return "idle" if self.idle(now, idle_s) else "active"

    def add(self, statement: Statement) -> None:
        self.statements.append(statement)
        self.total += 1
        while len(self.statements) > self.keep:
            # a running statement stays (its reply is still to come), older done ones go
            for n, old in enumerate(self.statements):
                if not old.running:
                    del self.statements[n]
                    self.dropped += 1
                    break
            else:
                break


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions the view lists."""

    app_name: str = ""  # "" = any
    database: str = ""  # "" = any
    txns_only: bool = False

    def accepts(self, session: AppSession) -> bool:
        if self.app_name and session.app_name != self.app_name:
            return False
        if self.database and self.database not in session.databases:
            return False
        return not self.txns_only or bool(session.txns)

    def describe(self) -> str:
        parts = [
            f"app {self.app_name}" if self.app_name else "",
            f"db {self.database}" if self.database else "",
            "only with transactions" if self.txns_only else "",
        ]
        return " · ".join(p for p in parts if p) or "all sessions"


def lsid_hex(command: dict[str, Any]) -> str:
    """The command's full session id as hex ("" without one): pymongo sends it as a
    Binary (bytes); a decoder set to the standard UUID form gives a uuid.UUID."""
    lsid = command.get("lsid")
    raw = lsid.get("id") if isinstance(lsid, dict) else None
    if isinstance(raw, bytes | bytearray):
        return bytes(raw).hex()
    text = getattr(raw, "hex", None)
    return text if isinstance(text, str) else ""


def collection_of(record: ProxyRecord) -> str:
    value = record.command.get(record.name)
    return value if isinstance(value, str) else ""


def describe(record: ProxyRecord) -> str:
    """One line for a statement: `update accounts {_id: 1}`, `insert orders 2 docs`."""
    cmd = record.command
    parts = [record.name]
    coll = collection_of(record)
    if coll:
        parts.append(coll)
    key = WRITES.get(record.name)
    items = cmd.get(key) if key else None
    if isinstance(items, list):
        if record.name == "insert":
            ids = [d.get("_id") for d in items if isinstance(d, dict)]
            parts.append(
                f"_id {format_short(ids[0])}" if len(ids) == 1 else f"{len(items)} documents"
            )
        elif items and isinstance(items[0], dict):
            parts.append(format_short(items[0].get("q", {})))
            if len(items) > 1:
                parts.append(f"+{len(items) - 1}")
    else:
        for name in ("filter", "query", "pipeline"):
            if name in cmd:
                parts.append(format_short(cmd[name]))
                break
    return " ".join(parts)


def _targets(record: ProxyRecord) -> set[tuple[str, str]]:
    """The documents a write names: (namespace, `_id …` or the filter as text)."""
    key = WRITES.get(record.name)
    ns = f"{record.database}.{collection_of(record)}"
    found: set[tuple[str, str]] = set()

    def add(doc: Any) -> None:
        if not isinstance(doc, dict):
            return
        if "_id" in doc and not isinstance(doc["_id"], dict):  # not an operator
            found.add((ns, f"_id {format_short(doc['_id'])}"))
        elif doc:
            found.add((ns, format_short(doc)))

    if record.name == "findAndModify":
        add(record.command.get("query"))
    elif key == "documents":
        for doc in record.command.get(key) or ():
            add({"_id": doc.get("_id")} if isinstance(doc, dict) and "_id" in doc else None)
    elif key:
        for item in record.command.get(key) or ():
            add(item.get("q") if isinstance(item, dict) else None)
    return found


@dataclass
class AppSessions:
    """Everything the proxy has shown: sessions by lsid, a timeline, the monitor's log and
    the connection notices. Fed on the app's thread, in the order the proxy saw things."""

    keep: int = KEEP_STATEMENTS
    idle_s: float = IDLE_S
    sessions: dict[str, AppSession] = field(default_factory=dict)
    log: CommandLog = field(default_factory=CommandLog)
    timeline: Timeline = field(default_factory=Timeline)
    notices: deque[ConnectionNotice] = field(default_factory=lambda: deque(maxlen=100))
    connections: int = 0  # client connections open now
    upstream_down: str = ""  # why the upstream cannot be reached, until a reply comes
    last_closed: str = ""  # the last connection the upstream closed, and why
    cleared: int = 0  # finished sessions cleared from the view
    forgotten: int = 0  # sessions dropped past MAX_SESSIONS
    _copies: dict[int, ProxyRecord] = field(default_factory=dict)  # awaiting a reply
    _by_record: dict[int, tuple[AppSession, Statement]] = field(default_factory=dict)
    _named: int = 0

    # -- fed by the proxy --------------------------------------------------------------
    def command(self, original: ProxyRecord) -> None:
        # The proxy hands the same record to every observer (a capture too): the view
        # numbers and names its own copy, and takes the reply over when it comes.
        record = dataclasses.replace(original)
        if record.expects_reply:
            self._copies[id(original)] = record
        else:  # a w:0 write: the server sends nothing back, and the proxy waits for nothing
            record.failure = NO_REPLY
        lsid = lsid_hex(record.command)
        session = self.sessions.get(lsid) if lsid else None
        if lsid and session is None and record.name.lower() not in NOT_STATEMENTS:
            session = self._new_session(lsid, record)
        txn_number = record.txn_number
        in_txn = record.command.get("autocommit") is False
        if session is not None and txn_number is not None and in_txn:
            # The driver resends only commit and abort within a transaction: any other
            # repeat is a new statement (step_id keeps them apart in the attempt count).
            if record.name.lower() not in ENDS:
                count = session._in_txn.get(txn_number, 0) + 1
                session._in_txn[txn_number] = count
                record.step_id = count
        if session is not None:
            record.lane_id = int(session.name[1:])
            record.lane = session.name
        self.log.add(record)
        if record.name.lower() == "endsessions":
            self._end_sessions(record)
        if session is None:
            return
        session.last_at = record.at
        if record.name.lower() not in ENDS:  # commit and abort run on admin
            session.databases.add(record.database)
        if record.app_name:
            session.app_name = record.app_name
        if record.peer:
            session.peers.add(record.peer)
        txn = None
        if txn_number is not None and in_txn:
            txn = session.txns.get(txn_number)
            if txn is None:
                before = session.txn
                txn = AppTxn(txn_number, record.at)
                if before is not None and before.transient:
                    txn.retry_of = before.number  # with_transaction runs it again
                session.txns[txn_number] = txn
            txn.statements += 1
        statement = Statement(record, txn.number if txn is not None else None)
        session.add(statement)
        if record.expects_reply:
            self._by_record[id(record)] = (session, statement)
        else:
            self._add_event(session, statement, txn)

    def reply(self, original: ProxyRecord) -> None:
        if original.reply is not None:
            self.upstream_down = ""
        record = self._copies.pop(id(original), None)
        if record is None:
            return
        record.reply, record.failure = original.reply, original.failure
        record.duration_ms = original.duration_ms
        found = self._by_record.pop(id(record), None)
        if found is None:
            return
        session, statement = found
        session.last_at = max(session.last_at, record.at + (record.duration_ms or 0) / 1000)
        txn = session.txns.get(statement.txn) if statement.txn is not None else None
        if txn is not None:
            self._fold_txn(session, txn, statement)
        self._add_event(session, statement, txn)

    def _add_event(self, session: AppSession, statement: Statement, txn: AppTxn | None) -> None:
        record = statement.record
        kind = EventKind.TXN if record.name.lower() in ENDS else EventKind.OP
        what = statement.describe()
        if statement.attempt > 1:
            what += f" (attempt {statement.attempt})"
        if txn is not None:
            what = f"txn {txn.number} · {what}"
        self.timeline.add(
            record.at,
            session.name,
            kind,
            what,
            statement.outcome(),
            ok=statement.ok or not record.expects_reply,
            duration_ms=record.duration_ms,
        )

    def connection(self, notice: ConnectionNotice) -> None:
        """Each client connection opens once and closes once: by the client, by the
        upstream, or because the upstream could not be reached (the proxy's notices)."""
        self.notices.append(notice)
        if notice.kind == "open":
            self.connections += 1
            return
        self.connections = max(0, self.connections - 1)
        if notice.kind == "upstream-down":
            self.upstream_down = notice.message or "the upstream cannot be reached"
        elif notice.kind == "upstream-closed":
            self.last_closed = f"connection {notice.conn_id}: {notice.message}"

    # -- state -------------------------------------------------------------------------
    def _new_session(self, lsid: str, record: ProxyRecord) -> AppSession:
        if len(self.sessions) >= MAX_SESSIONS:
            self._forget_one(record.at)
        self._named += 1
        colour = LANE_COLOURS[(self._named - 1) % len(LANE_COLOURS)]
        session = AppSession(lsid, f"S{self._named}", colour, record.at, record.at, self.keep)
        self.sessions[lsid] = session
        return session

    def _forget_one(self, now: float) -> None:
        """Room for a new session: the one finished longest ago, else the one idle longest
        (a session with an open transaction or a running statement last)."""

        def rank(session: AppSession) -> tuple[bool, bool, float]:
            busy = session.open_txn is not None or bool(session.running)
            return (busy, not session.finished(now, self.idle_s), session.last_at)

        oldest = min(self.sessions.values(), key=rank)
        del self.sessions[oldest.lsid]
        self.forgotten += 1

    def _end_sessions(self, record: ProxyRecord) -> None:
        for item in record.command.get("endSessions") or ():
            session = self.sessions.get(lsid_hex({"lsid": item}))
            if session is not None:
                session.ended = True
                session.last_at = record.at

    def _fold_txn(self, session: AppSession, txn: AppTxn, statement: Statement) -> None:
        """What the reply did to the transaction (the server's rules: error_info.py)."""
        record = statement.record
        end = ENDS.get(record.name.lower())
        labels = statement.labels
        if TRANSIENT in labels:
            txn.transient = True
        if end == "commit":
            if statement.ok:
                txn.status = TxnStatus.COMMITTED
            elif UNKNOWN_COMMIT in labels or record.reply is None:
                txn.status = TxnStatus.COMMIT_UNKNOWN  # it may have applied; a retry tells
            else:  # the server refused the commit: nothing of it applies
                txn.status = TxnStatus.SERVER_ABORTED
            txn.ended_at = record.at
            return
        if end == "abort":
            txn.status = TxnStatus.ABORTED
            txn.ended_at = record.at
            return
        if statement.ok:
            txn.writes |= _targets(record)
            return
        if statement.code == WRITE_CONFLICT:
            self._name_conflict(session, statement)
        if statement_aborts(statement.code) and txn.open:
            txn.status = TxnStatus.SERVER_ABORTED
            txn.ended_at = record.at

    def _name_conflict(self, session: AppSession, statement: Statement) -> None:
        """A WriteConflict names which other session's open transaction wrote the
        document, as far as the traffic shows (the server does not say who)."""
        targets = _targets(statement.record)
        for other in self.sessions.values():
            txn = other.open_txn
            if other is session or txn is None:
                continue
            held = txn.writes & targets
            if held:
                what = min(held)[1]
                statement.conflict_short = f"{other.name} (txn {txn.number})"
                statement.conflict_with = (
                    f"session {other.name}'s open transaction (txn {txn.number}) wrote {what}"
                )
                return
        statement.conflict_with = (
            "no open transaction seen through the proxy wrote it: a write committed after "
            "this transaction's snapshot, or a client not going through this proxy"
        )

    # -- what the view lists -----------------------------------------------------------
    def shown(self, filt: SessionFilter) -> list[AppSession]:
        return [s for s in self.sessions.values() if filt.accepts(s)]

    def clear_finished(self, now: float) -> int:
        """Forget the sessions that ended or went idle (the timeline and monitor keep
        their rows); returns how many."""
        gone = [k for k, s in self.sessions.items() if s.finished(now, self.idle_s)]
        for key in gone:
            del self.sessions[key]
        self.cleared += len(gone)
        return len(gone)

    def app_names(self) -> list[str]:
        return sorted({s.app_name for s in self.sessions.values() if s.app_name})

    def databases(self) -> list[str]:
        return sorted({d for s in self.sessions.values() for d in s.databases})

    def colours(self) -> dict[str, str]:
        return {s.name: s.colour for s in self.sessions.values()}

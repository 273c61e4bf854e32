"""Observation: frames already forwarded become ProxyRecords for the observers.

Nothing here is on the forwarding path: the forwarder hands a frame over only after it has
written it. Credentials never leave this module: the body and reply of an authentication
command (model.monitor.SENSITIVE, the commands the driver specification "Command Logging
and Monitoring" says to redact) are replaced, and so is `speculativeAuthenticate` in a
handshake and its reply (the same specification: a hello carrying it is sensitive).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from ...model.monitor import SENSITIVE, ReadRetries
from ...model.proxy_records import ConnectionNotice, ProxyObserver, ProxyRecord
from . import frames

REDACTED = "<redacted>"
SPECULATIVE = "speculativeAuthenticate"


def _redact_command(name: str, body: dict[str, Any]) -> dict[str, Any]:
    if name.lower() in SENSITIVE:
        return {name: REDACTED, **({"$db": body["$db"]} if "$db" in body else {})}
    if SPECULATIVE in body:
        body = dict(body)
        body[SPECULATIVE] = REDACTED
    return body


def _redact_reply(name: str, reply: dict[str, Any]) -> dict[str, Any]:
    if name.lower() in SENSITIVE:
        # Only what says whether it worked: a SCRAM reply's payload and conversation stay out.
        return {k: reply[k] for k in ("ok", "code", "codeName", "done") if k in reply}
    if SPECULATIVE in reply:
        reply = dict(reply)
        reply[SPECULATIVE] = REDACTED
    return reply


class Observers:
    """The observers of one proxy: a list that may grow while it runs (each call iterates
    over a snapshot), and every call guarded so that an observer's bug never stops the
    forwarding."""

    def __init__(self) -> None:
        self._list: list[ProxyObserver] = []
        self.errors = 0

    def append(self, observer: ProxyObserver) -> None:
        self._list = [*self._list, observer]

    def remove(self, observer: ProxyObserver) -> None:
        self._list = [o for o in self._list if o is not observer]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def _each(self, method: str, arg: Any) -> None:
        for o in self._list:
            try:
                getattr(o, method)(arg)
            except Exception:
                self.errors += 1

    def command(self, record: ProxyRecord) -> None:
        self._each("command", record)

    def reply(self, record: ProxyRecord) -> None:
        self._each("reply", record)

    def connection(self, notice: ConnectionNotice) -> None:
        self._each("connection", notice)


class Retries:
    """Which attempt of a statement a command is. A retryable write resends its command with
    the same lsid and txnNumber, a retried commit or abort the same lsid, txnNumber and
    name (the Retryable Writes and Transactions specifications); a statement inside a
    transaction is never retried by the driver, so it is always attempt 1. Retryable
    reads: model.monitor.ReadRetries."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], tuple[int, int]] = {}  # key → (attempts, step_id)

    def attempt(self, body: dict[str, Any], name: str, seq: int) -> tuple[int, int]:
        lsid = body.get("lsid")
        raw = lsid.get("id") if isinstance(lsid, dict) else None
        txn = body.get("txnNumber")
        if raw is None or txn is None:
            return 1, seq
        if name in ("commitTransaction", "abortTransaction"):
            key: tuple[Any, ...] = (bytes(raw), int(txn), name)
        elif "autocommit" not in body:
            key = (bytes(raw), int(txn))
        else:
            return 1, seq
        attempts, step_id = self._seen.get(key, (0, seq))
        self._seen[key] = (attempts + 1, step_id)
        if len(self._seen) > 100_000:  # a long-running proxy: forget the oldest half
            for old in list(self._seen)[:50_000]:
                del self._seen[old]
        return attempts + 1, step_id


class Recorder:
    """Turns one proxy's forwarded frames into records, and tells the observers."""

    def __init__(self, observers: Observers) -> None:
        self.observers = observers
        self._seq = itertools.count(1)
        self.retries = Retries()
        self.reads = ReadRetries()
        self.undecodable = 0

    def request(self, conn: Any, frame: bytes, body: dict[str, Any] | None) -> None:
        """A client's frame, written upstream. `body`: its command if the forwarder has
        decoded it already (a handshake)."""
        if not len(self.observers):
            return  # nobody watches: no decoding at all
        h = frames.header(frame)
        expects = True
        try:
            if h.op_code == frames.OP_MSG:
                flags = frames.msg_flags(frame)
                expects = not flags & frames.MORE_TO_COME
                if body is None:
                    body = frames.decode_msg(frame).body
            elif h.op_code == frames.OP_QUERY:
                if body is None:
                    body = frames.decode_query(frame).query
                body = body.get("$query", body) if isinstance(body.get("$query"), dict) else body
                body = {**body, "$db": "admin"} if "$db" not in body else body
            else:
                return
        except frames.FrameError:
            self.undecodable += 1
            return
        name = next(iter(body), "")
        if name.lower() in ("hello", "ismaster") and not conn.app_name:
            client = body.get("client")
            app = client.get("application") if isinstance(client, dict) else None
            conn.app_name = str(app.get("name", "")) if isinstance(app, dict) else ""
        seq = next(self._seq)
        attempt, step_id = self.retries.attempt(body, name, seq)
        first = self.reads.previous(name, body)
        if first is not None:  # a retryable read sent again after its attempt failed
            attempt, step_id = first.attempt + 1, first.step_id
        record = ProxyRecord(
            seq=seq,
            # When it arrived, not when it is recorded (observation runs a moment later,
            # feed.py): `at` + duration_ms is when its reply came (scenario/capture.py).
            at=time.time()
            - max(0.0, time.perf_counter() - conn.received if conn.received else 0.0),
            name=name,
            database=str(body.get("$db", "")),
            command=_redact_command(name, body),
            attempt=attempt,
            step_id=step_id,
            conn_id=conn.conn_id,
            peer=conn.peer,
            app_name=conn.app_name,
            expects_reply=expects,
        )
        self.reads.remember(record)
        if expects:
            conn.pending[h.request_id] = (record, conn.received or time.perf_counter())
        self.observers.command(record)

    def reply(self, conn: Any, frame: bytes, body: dict[str, Any] | None) -> None:
        """An upstream frame, written to the client."""
        h = frames.header(frame)
        entry = conn.pending.pop(h.response_to, None)
        if entry is None:
            return  # a further reply of an exhaust stream: its first one closed the record
        record, started = entry
        try:
            if body is None:
                if h.op_code == frames.OP_MSG:
                    body = frames.decode_msg(frame).body
                elif h.op_code == frames.OP_REPLY:
                    docs = frames.decode_reply(frame).documents
                    body = docs[0] if docs else {}
                else:
                    body = {}
        except frames.FrameError:
            self.undecodable += 1
            body = {}
            record.failure = "the reply could not be decoded"
        record.duration_ms = ((conn.received or time.perf_counter()) - started) * 1e3
        if not record.failure:
            record.reply = _redact_reply(record.name, body)
        self.observers.reply(record)

    def closed(self, conn: Any, why: str) -> None:
        """The connection is gone: its commands still waiting get `failure`."""
        pending, conn.pending = conn.pending, {}
        for record, started in pending.values():
            record.failure = why
            record.duration_ms = (time.perf_counter() - started) * 1e3
            self.observers.reply(record)

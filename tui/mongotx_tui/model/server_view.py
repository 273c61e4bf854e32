"""The server view's rows: the deployment's open transactions and the operations waiting
for a lock, made from `$currentOp`'s documents (pure: the backend reads them).

Fields as mongod reports them [manual: reference/operator/aggregation/currentOp;
srv:db/transaction/transaction_participant.cpp Observer::reportStashedState (an idle
transaction), db/curop.cpp CurOp::reportState (a running operation),
db/transaction/single_transaction_stats.cpp (the `transaction` sub-document)].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# What mongod's lock modes mean, for "waits for a Collection lock (exclusive)".
LOCK_MODES = {"R": "shared", "W": "exclusive", "r": "intent shared", "w": "intent exclusive"}


@dataclass(frozen=True)
class WaitingOp:
    """An operation the server lists as waiting for a lock (`waitingForLock: true`)."""

    opid: int | None
    command: str  # the command's name (drop, createIndexes, insert…)
    ns: str
    lock: str  # what it waits for: "a Collection lock (exclusive)"
    secs: int  # secs_running
    who: str  # "lane A", or the client (appName, host:port)
    behind: tuple[str, ...] = ()  # labels of the open transactions known to hold it up
    # open transactions whose namespaces are not known (the server names none for an idle
    # transaction): any of them may hold it up too
    maybe: tuple[str, ...] = ()

    def line(self) -> str:
        """`drop bank.accounts (lane B) waits 3 s for a Collection lock (exclusive)`."""
        what = f"{self.command} {self.ns}".strip()
        return f"{what} ({self.who}) waits {self.secs} s for {self.lock}"

    def behind_text(self) -> str:
        """Which open transactions hold it up, as far as $currentOp tells."""
        unknown = "the server names no namespace for an idle transaction"
        if self.behind and self.maybe:
            known = ", ".join(self.behind)
            return f"behind {known}; maybe also {', '.join(self.maybe)} ({unknown})"
        if self.behind:
            return "behind " + ", ".join(self.behind)
        if self.maybe:
            return f"behind one of {', '.join(self.maybe)} ({unknown})"
        return "behind no open transaction listed (another operation holds the lock)"

    def holds_up(self, label: str) -> bool:
        """Whether it waits behind that transaction (or may, when none is known to)."""
        return label in self.behind or (not self.behind and label in self.maybe)


@dataclass(frozen=True)
class ServerTxn:
    """One open transaction: an idle session's, or one a statement runs in now."""

    lsid: str  # the session id as hex
    lsid_doc: Any  # the lsid document as the server gave it (what killSessions takes)
    txn_number: int
    lane: str  # the workbench lane it belongs to ("" when it is not ours)
    app: str  # the client's appName ("" when it sent none)
    client: str  # host:port of its last connection
    active: bool  # a statement of it runs now
    running: str  # that statement: "insert bank.accounts"
    open_s: float | None  # timeOpenMicros
    left_s: float | None  # until expiryTime (its lifetime limit)
    namespaces: tuple[str, ...]
    waiting: tuple[WaitingOp, ...] = ()

    @property
    def short_lsid(self) -> str:
        return self.lsid[:8] + "…" if self.lsid else "—"

    @property
    def label(self) -> str:
        """`lane A txn 3`, or `shop-app lsid 1a2b3c4d… txn 1`: how a waiting operation
        names it (the lsid tells two transactions of one application apart)."""
        who = f"lane {self.lane}" if self.lane else f"{self.app} lsid {self.short_lsid}".strip()
        return f"{who} txn {self.txn_number}"

    @property
    def owner(self) -> str:
        """`lane A`, or who else holds it."""
        if self.lane:
            return f"lane {self.lane}"
        return self.app or "another client"


@dataclass
class ServerView:
    """What one `$currentOp` read showed."""

    txns: list[ServerTxn] = field(default_factory=list)
    waiting: list[WaitingOp] = field(default_factory=list)
    note: str = ""  # e.g. only this user's sessions are listed, and why
    error: str = ""  # the read failed: what the server said


def lsid_hex(lsid: Any) -> str:
    raw = lsid.get("id") if isinstance(lsid, Mapping) else None
    return raw.hex() if isinstance(raw, bytes | bytearray) else ""


def _time(text: Any) -> datetime | None:
    """mongod writes startWallClockTime and expiryTime as ISO-8601 strings with an offset
    (dateToISOStringLocal)."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _micros(value: Any) -> float | None:
    return int(value) / 1e6 if isinstance(value, int) else None


def time_left(txn: Mapping[str, Any]) -> float | None:
    """Seconds until expiryTime, measured on the server's clock: (expiryTime -
    startWallClockTime) - timeOpenMicros, so a skew between the app's clock and the
    server's does not show."""
    start, expiry = _time(txn.get("startWallClockTime")), _time(txn.get("expiryTime"))
    opened = _micros(txn.get("timeOpenMicros"))
    if start is None or expiry is None or opened is None:
        return None
    return max(0.0, (expiry - start).total_seconds() - opened)


def _lock(locks: Any) -> str:
    """The lock an operation waits for: its strongest resource (Collection over Database
    over Global) and the mode, as `locks` lists it."""
    if not isinstance(locks, Mapping):
        return "a lock"
    for resource in ("Collection", "Database", "Global"):
        mode = locks.get(resource)
        if isinstance(mode, str):
            return f"a {resource} lock ({LOCK_MODES.get(mode, mode)})"
    return "a lock"


def _client(doc: Mapping[str, Any]) -> tuple[str, str]:
    app = doc.get("appName")
    client = doc.get("client")
    return (app if isinstance(app, str) else "", client if isinstance(client, str) else "")


def build_view(
    docs: Iterable[Mapping[str, Any]],
    lanes: Mapping[str, str],
    lane_namespaces: Mapping[str, Iterable[str]] | None = None,
    seen: dict[tuple[str, int], set[str]] | None = None,
) -> ServerView:
    """The rows of `$currentOp`'s documents.

    `lanes`: lsid hex → lane name (the workbench's sessions). `lane_namespaces`: the
    namespaces a lane's transaction used (the workbench knows them). `seen`: namespaces
    seen earlier per (lsid, txnNumber) while a statement ran: an idle transaction's entry
    names none (its `locks` give resource types, not names); it is updated in place.
    """
    seen = seen if seen is not None else {}
    lane_namespaces = lane_namespaces or {}
    txns: dict[tuple[str, int], dict[str, Any]] = {}
    waiting_docs: list[Mapping[str, Any]] = []
    for doc in docs:
        hexid = lsid_hex(doc.get("lsid"))
        sub = doc.get("transaction")
        params = sub.get("parameters") if isinstance(sub, Mapping) else None
        number = params.get("txnNumber") if isinstance(params, Mapping) else None
        # A transaction has autocommit: false; a retryable write reports a txnNumber only.
        in_txn = isinstance(params, Mapping) and params.get("autocommit") is False
        ns = doc.get("ns") if isinstance(doc.get("ns"), str) else ""
        if doc.get("waitingForLock") is True:
            waiting_docs.append(doc)
        if not hexid or not isinstance(number, int) or not in_txn:
            continue
        key = (hexid, int(number))
        names = seen.setdefault(key, set())
        if ns and doc.get("active"):
            names.add(ns)
        app, client = _client(doc)
        entry = txns.setdefault(key, {"doc": doc, "sub": sub, "app": app, "client": client})
        if doc.get("active"):
            command = doc.get("command")
            verb = next(iter(command), "") if isinstance(command, Mapping) else ""
            entry["running"] = f"{verb} {ns}".strip()
    for key in [k for k in seen if k not in txns]:
        del seen[key]  # ended: its namespaces go with it
    rows: list[ServerTxn] = []
    for (hexid, number), entry in txns.items():
        sub = entry["sub"]
        names = set(seen.get((hexid, number), set())) | set(lane_namespaces.get(hexid, ()))
        rows.append(
            ServerTxn(
                lsid=hexid,
                lsid_doc=entry["doc"].get("lsid"),
                txn_number=number,
                lane=lanes.get(hexid, ""),
                app=entry["app"],
                client=entry["client"],
                active="running" in entry,
                running=entry.get("running", ""),
                open_s=_micros(sub.get("timeOpenMicros")),
                left_s=time_left(sub),
                namespaces=tuple(sorted(names)),
            )
        )
    waiting = [_waiting(doc, lanes, rows) for doc in waiting_docs]
    final = [
        replace(row, waiting=tuple(w for w in waiting if w.holds_up(row.label))) for row in rows
    ]
    final.sort(key=lambda r: (r.lane == "", r.lane, -(r.open_s or 0.0)))
    return ServerView(final, waiting)


def _waiting(doc: Mapping[str, Any], lanes: Mapping[str, str], txns: list[ServerTxn]) -> WaitingOp:
    """A waiting operation, and the open transactions it waits behind: those that used its
    namespace (or, for a database lock, its database), and those whose namespaces are not
    known (`maybe`)."""
    command = doc.get("command")
    verb = next(iter(command), "") if isinstance(command, Mapping) else ""
    ns = doc.get("ns") if isinstance(doc.get("ns"), str) else ""
    locks = doc.get("locks")
    lock = _lock(locks)
    hexid = lsid_hex(doc.get("lsid"))
    app, client = _client(doc)
    who = f"lane {lanes[hexid]}" if hexid in lanes else (app or client or "another client")
    whole_db = isinstance(locks, Mapping) and "Collection" not in locks
    db = ns.split(".", 1)[0]
    others = [t for t in txns if t.lsid != hexid]
    behind = [
        t.label
        for t in others
        if any(n == ns or (whole_db and n.split(".", 1)[0] == db) for n in t.namespaces)
    ]
    maybe = [t.label for t in others if not t.namespaces]
    secs = doc.get("secs_running")
    opid = doc.get("opid")
    return WaitingOp(
        opid=int(opid) if isinstance(opid, int) else None,
        command=verb,
        ns=ns,
        lock=lock,
        secs=int(secs) if isinstance(secs, int) else 0,
        who=who,
        behind=tuple(behind),
        maybe=tuple(maybe),
    )

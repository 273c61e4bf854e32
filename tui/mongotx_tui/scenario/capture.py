"""A capture of an application's traffic (model.proxy_records) as a scenario: its sessions
become the scenario's sessions, its statements steps in the order the upstream received
them, their outcomes expectations, and the documents its replies showed the setup.

Pure: `capture_data(records, ...)` gives scenario data for `save.dump`, which the loader
reads back. A driver's retry is not a step of its own (the replaying driver retries by
itself): the first attempt is the step, the last attempt's outcome its expectation. A
statement still waiting for its reply BLOCKED_MS after later statements were sent (a lock,
a DDL behind a transaction) gets `blocks_until`; one that waited less is replayed in turn.
capture_steps maps one command to a step, capture_setup finds the setup.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model.proxy_records import ProxyRecord
from .capture_setup import seen_documents, statements, where
from .capture_steps import StepBuilder, error_expect, expectation, plain

MAX_SESSIONS = 16  # the format's limit (FORMAT.md, "Limits")
BLOCKED_MS = 200.0  # a statement in flight this long while others ran was waiting for them


@dataclass
class _Session:
    name: str
    lsid: str
    app: str
    conns: set[int] = field(default_factory=set)
    has_txn: bool = False
    txn: int | None = None  # the transaction number now open


def _last_attempts(records: list[ProxyRecord]) -> dict[int, ProxyRecord]:
    """First attempt's seq → the record of its last attempt."""
    last: dict[int, ProxyRecord] = {}
    for r in records:
        last[r.step_id or r.seq] = r
    return last


def _blocks(steps: list[dict[str, Any]], step_of: list[ProxyRecord | None]) -> None:
    """A statement that waited while later ones ran (a lock, a DDL) blocks until the last
    statement sent before its reply came."""
    sent = [r.at if r is not None else None for r in step_of]
    for i, r in enumerate(step_of):
        if r is None or r.duration_ms is None or r.duration_ms < BLOCKED_MS:
            continue
        done = r.at + r.duration_ms / 1e3
        until = max((j for j in range(i + 1, len(steps)) if (sent[j] or 0) < done), default=None)
        if until is None:
            continue
        between = steps[i + 1 : until + 1]
        if any(s.get("session") == steps[i].get("session") for s in between):
            continue
        steps[i]["blocks_until"] = until + 1


def capture_data(
    records: list[ProxyRecord],
    *,
    name: str = "capture",
    title: str = "",
    setup_documents: dict[str, list[dict[str, Any]]] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The scenario data for `records` (in the order the proxy forwarded them).
    `setup_documents`: the documents fetched from the upstream at save time, per collection
    of the scenario's database; without it, those the replies showed."""
    mine = statements(records)
    database, default_coll = where(mine)
    last = _last_attempts(mine)
    sessions: dict[str, _Session] = {}
    dropped: Counter[str] = Counter()
    b = StepBuilder(mine, database, default_coll)
    step_of: list[ProxyRecord | None] = []
    commits = _commit_concerns(mine)
    for r in mine:
        if r.attempt > 1:
            continue  # a retry: its outcome is on its first attempt's step
        s = sessions.get(r.lsid)
        if s is None:
            if len(sessions) >= MAX_SESSIONS:
                dropped[r.lsid] += 1
                continue
            s = sessions[r.lsid] = _Session(f"S{len(sessions) + 1}", r.lsid, r.app_name)
        s.conns.add(r.conn_id)
        final = last.get(r.step_id or r.seq, r)
        in_txn = r.command.get("autocommit") is False
        if r.name in ("commitTransaction", "abortTransaction"):
            step: dict[str, Any] = {
                "session": s.name,
                "action": "commit" if r.name == "commitTransaction" else "abort",
            }
            if final.attempt > 1:
                step["note"] = f"the driver sent it {final.attempt} times (retries)"
            err = error_expect(final.reply) if final.reply is not None else None
            if final.reply is None:
                step.update(expectation("commit", r.command, final))
            elif err is not None and r.name == "commitTransaction":
                step["error"] = err
            elif err is not None:
                # The driver ignores an abort's error (Transactions specification,
                # "abortTransaction"): the replayed abort succeeds whatever the server says.
                step["note"] = f"the server answered {err.get('code')} {err.get('codeName', '')}"
            b.steps.append(step)
            step_of.append(r)
            s.txn = None
            continue
        if in_txn and r.command.get("startTransaction"):
            s.has_txn = True
            s.txn = r.txn_number
            start: dict[str, Any] = {"session": s.name, "action": "startTransaction"}
            rc = r.command.get("readConcern")
            level = rc.get("level") if isinstance(rc, dict) else None
            start["readConcern"] = level or None  # null: the transaction sent none
            start["writeConcern"] = commits.get((r.lsid, r.txn_number))  # its commit's
            b.steps.append(start)
            step_of.append(None)
        step = b.op(r, s.name, final, in_txn)
        if step is not None:
            b.steps.append(step)
            step_of.append(r)
    _blocks(b.steps, step_of)
    if now is None:
        now = records[0].at if records else 0.0
    when = dt.datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M")
    fetched = setup_documents is not None
    if setup_documents is None:
        setup_documents, skipped = seen_documents(mine, database)
    else:
        skipped = 0
    description = [
        f"Captured by `mongotx-tui proxy` on {when}: {len(b.steps)} statements of "
        f"{len(sessions)} application sessions, in the order the server received them.",
        "Setup: the documents as fetched from the upstream when the capture was saved."
        if fetched
        else "Setup: each document as a reply first showed it (those the capture inserted are "
        "left to its own insert steps).",
    ]
    if skipped:
        description.append(f"{skipped} documents had values plain YAML cannot hold; left out.")
    if dropped:
        description.append(
            f"Only the first {MAX_SESSIONS} sessions are kept: {sum(dropped.values())} "
            f"statements of {len(dropped)} more sessions are left out."
        )
    for s in sessions.values():
        app = f", app {s.app}" if s.app else ""
        conns = ", ".join(str(c) for c in sorted(s.conns))
        description.append(f"{s.name}: lsid {s.lsid}…{app}, proxy connection(s) {conns}.")
    colls = list(dict.fromkeys([default_coll, *setup_documents]))
    setup: dict[str, Any] = {
        "database": database,
        "collection": default_coll,
        "documents": setup_documents.get(default_coll, []),
    }
    if len(colls) > 1:
        setup["collections"] = {c: {"documents": setup_documents.get(c, [])} for c in colls[1:]}
    return {
        "name": name,
        "title": title or f"Application capture of {when}",
        "description": " ".join(description),
        "setup": setup,
        "sessions": {s.name: {} for s in sessions.values()},
        "steps": b.steps,
        "verdict": f"What the application's sessions did, statement by statement, on {when}.",
    }


def _commit_concerns(statements: list[ProxyRecord]) -> dict[tuple[str, int | None], Any]:
    """A transaction's write concern is what its commit carried (None: none)."""
    out: dict[tuple[str, int | None], Any] = {}
    for r in statements:
        if r.name == "commitTransaction" and r.attempt == 1:
            wc = r.command.get("writeConcern")
            w = wc.get("w") if isinstance(wc, dict) else None
            out[(r.lsid, r.txn_number)] = plain(w)
    return out

"""A capture of an application's traffic (model.proxy_records) as a scenario: its sessions
become the scenario's sessions, its statements steps in the order the upstream received
them, their outcomes expectations, and the documents its replies showed the setup.

Pure: `capture_data(records, ...)` gives scenario data for `save.dump`, which the loader
reads back. A driver's retry is not a step of its own (the replaying driver retries by
itself): the first attempt is the step, the last attempt's outcome its expectation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model.literals import format_value
from ..model.monitor import SENSITIVE
from ..model.proxy_records import ProxyRecord

MAX_SESSIONS = 16  # the format's limit (FORMAT.md, "Limits")
MAX_RESULT_ITEMS = 50
BLOCKED_MS = 200.0  # a statement in flight this long while others ran was waiting for them

# The driver's own commands, not the application's statements.
DRIVER_ONLY = frozenset({"hello", "ismaster", "endsessions", "killcursors", "getmore", "ping"})
# Fields of a command that the replaying driver adds itself.
SESSION_FIELDS = frozenset(
    {
        "lsid",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "$clusterTime",
        "$db",
        "$readPreference",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
    }
)


def yamlable(value: Any) -> bool:
    """Plain YAML holds it exactly (no ObjectId, dates, Decimal128, bytes...)."""
    if value is None or isinstance(value, bool | str | float):
        return True
    if isinstance(value, int):
        return abs(value) < 2**63
    if isinstance(value, dict):
        return all(isinstance(k, str) and yamlable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return len(value) <= MAX_RESULT_ITEMS and all(yamlable(v) for v in value)
    return False


def plain(value: Any) -> Any:
    """Int64 and the like as the builtins YAML writes."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def id_key(value: Any) -> str:
    """A hashable stand-in for an _id (which may be a document)."""
    return repr(plain(value))


def field_value(value: Any) -> Any:
    """A step's field: a YAML value when plain YAML holds it, else mongosh literal text."""
    return plain(value) if yamlable(value) else format_value(value)


@dataclass
class _Session:
    name: str
    lsid: str
    app: str
    conns: set[int] = field(default_factory=set)
    has_txn: bool = False
    txn: int | None = None  # the transaction number now open


def _statements(records: list[ProxyRecord]) -> list[ProxyRecord]:
    return [
        r
        for r in records
        if r.name.lower() not in DRIVER_ONLY
        and r.name.lower() not in SENSITIVE
        and not r.name.lower().startswith("sasl")
        and r.lsid
    ]


def _last_attempts(records: list[ProxyRecord]) -> dict[int, ProxyRecord]:
    """First attempt's seq → the record of its last attempt."""
    last: dict[int, ProxyRecord] = {}
    for r in records:
        last[r.step_id or r.seq] = r
    return last


class _Builder:
    def __init__(self, records: list[ProxyRecord], database: str, collection: str) -> None:
        self.database = database
        self.collection = collection
        self.records = records
        self.steps: list[dict[str, Any]] = []
        self.step_of: list[ProxyRecord] = []  # the record each step came from (None: synthetic)
        self.notes: list[str] = []

    def op(self, r: ProxyRecord, session: str, last: ProxyRecord, in_txn: bool) -> dict | None:
        cmd = r.command
        name = r.name
        coll = cmd.get(name)
        out: dict[str, Any] = {"session": session}
        where = r.database == self.database and isinstance(coll, str)
        if where and coll != self.collection:
            out["collection"] = coll
        step = self._crud(name, cmd, out) if where else None
        if step is None:
            step = {
                "session": session,
                "action": "command",
                "command": field_value({k: v for k, v in cmd.items() if k not in SESSION_FIELDS}),
            }
            if r.database != self.database:
                step["database"] = r.database
        elif not in_txn:
            self._options(cmd, step)
        if last.attempt > 1:
            step["note"] = f"the driver sent it {last.attempt} times (retries)"
        step.update(_expectation(step["action"], cmd, last))
        return step

    @staticmethod
    def _options(cmd: dict[str, Any], step: dict[str, Any]) -> None:
        wc = cmd.get("writeConcern")
        if isinstance(wc, dict) and wc:
            step["writeConcern"] = plain(wc)
        rc = cmd.get("readConcern")
        if isinstance(rc, dict) and rc.get("level"):
            step["readConcern"] = {"level": rc["level"]}
        if "maxTimeMS" in cmd:
            step["maxTimeMS"] = int(cmd["maxTimeMS"])
        if "comment" in cmd and isinstance(cmd["comment"], str):
            step["comment"] = cmd["comment"]

    def _crud(self, name: str, cmd: dict[str, Any], out: dict[str, Any]) -> dict | None:
        """The operation of a CRUD command with one statement; None: a `command` step."""
        if name == "insert":
            docs = cmd.get("documents") or []
            if len(docs) == 1:
                return {**out, "action": "insert", "document": field_value(docs[0])}
            return {**out, "action": "insertMany", "documents": field_value(list(docs))}
        if name == "update":
            ups = cmd.get("updates") or []
            if len(ups) != 1 or ups[0].get("arrayFilters") or ups[0].get("collation"):
                return None
            u = ups[0]
            update = u.get("u", {})
            replace = isinstance(update, dict) and not any(k.startswith("$") for k in update)
            action = "replace" if replace else ("updateMany" if u.get("multi") else "update")
            step = {**out, "action": action, "filter": field_value(u.get("q", {}))}
            step["replacement" if replace else "update"] = field_value(update)
            if u.get("upsert"):
                step["upsert"] = True
            return step
        if name == "delete":
            dels = cmd.get("deletes") or []
            if len(dels) != 1 or dels[0].get("collation"):
                return None
            action = "delete" if dels[0].get("limit") else "deleteMany"
            return {**out, "action": action, "filter": field_value(dels[0].get("q", {}))}
        if name == "find":
            one = cmd.get("limit") == 1 and cmd.get("singleBatch")
            step = {**out, "action": "findOne" if one else "find"}
            step["filter"] = field_value(cmd.get("filter", {}))
            for key in ("projection", "sort"):
                if cmd.get(key):
                    step[key] = field_value(cmd[key])
            if cmd.get("limit") and not one:
                step["limit"] = int(cmd["limit"])
            return step
        if name == "findAndModify":
            update = cmd.get("update")
            if cmd.get("remove"):
                action = "findOneAndDelete"
            elif isinstance(update, dict) and not any(k.startswith("$") for k in update):
                action = "findOneAndReplace"
            else:
                action = "findOneAndUpdate"
            step = {**out, "action": action, "filter": field_value(cmd.get("query", {}))}
            if action == "findOneAndReplace":
                step["replacement"] = field_value(update)
            elif action == "findOneAndUpdate":
                step["update"] = field_value(update)
            if cmd.get("fields"):
                step["projection"] = field_value(cmd["fields"])
            if cmd.get("sort"):
                step["sort"] = field_value(cmd["sort"])
            if cmd.get("upsert"):
                step["upsert"] = True
            if cmd.get("new"):
                step["after"] = True
            return step
        if name == "aggregate" and isinstance(cmd.get("pipeline"), list):
            return {**out, "action": "aggregate", "pipeline": field_value(cmd["pipeline"])}
        if name == "distinct" and isinstance(cmd.get("key"), str):
            step = {**out, "action": "distinct", "key": cmd["key"]}
            if cmd.get("query"):
                step["filter"] = field_value(cmd["query"])
            return step
        return None


def _error(reply: dict[str, Any]) -> dict[str, Any] | None:
    """The error a driver raises for this reply (a command error, a write error, a write
    concern error), as an expectation."""
    labels = list(reply.get("errorLabels") or [])
    source: dict[str, Any] | None = None
    if not reply.get("ok"):
        source = reply
    elif isinstance(reply.get("writeErrors"), list) and reply["writeErrors"]:
        source = reply["writeErrors"][0]
    elif isinstance(reply.get("writeConcernError"), dict):
        source = reply["writeConcernError"]
    if source is None:
        return None
    error: dict[str, Any] = {}
    if source.get("code") is not None:
        error["code"] = int(source["code"])
    if source.get("codeName"):
        error["codeName"] = str(source["codeName"])
    if labels:
        error["labels"] = labels
    return error


def _result(action: str, cmd: dict[str, Any], reply: dict[str, Any]) -> Any:
    """What the replaying step returns, when the reply says all of it; else None."""
    cursor = reply.get("cursor")
    batch = None
    if isinstance(cursor, dict) and not cursor.get("id"):
        batch = cursor.get("firstBatch")
    if action == "insert":
        docs = cmd.get("documents") or [{}]
        return {"insertedId": docs[0].get("_id")} if "_id" in docs[0] else None
    if action in ("update", "updateMany", "replace"):
        out = {"matchedCount": reply.get("n", 0), "modifiedCount": reply.get("nModified", 0)}
        upserted = reply.get("upserted")
        if isinstance(upserted, list) and upserted:
            out["matchedCount"] = 0
            out["upsertedId"] = upserted[0].get("_id")
        return out
    if action in ("delete", "deleteMany"):
        return {"deletedCount": reply.get("n", 0)}
    if action in ("find", "aggregate") and batch is not None:
        return list(batch)
    if action == "findOne" and batch is not None:
        return batch[0] if batch else None
    if action.startswith("findOneAnd"):
        return reply.get("value")
    if action == "distinct":
        return reply.get("values")
    return None


def _expectation(action: str, cmd: dict[str, Any], last: ProxyRecord) -> dict[str, Any]:
    if not last.expects_reply:
        return {"note": "sent with moreToCome (w:0): the server gives no reply"}
    if last.reply is None:
        why = last.failure or "no reply when the capture was saved"
        return {"note": f"(no reply in the capture: {why})"}
    error = _error(last.reply)
    if error is not None:
        return {"error": error}
    result = _result(action, cmd, last.reply)
    if result is not None and yamlable(result):
        return {"result": plain(result)}
    return {}


def _where(statements: list[ProxyRecord]) -> tuple[str, str]:
    """The database most statements ran on, and its collection named first."""
    counts = Counter(r.database for r in statements if isinstance(r.command.get(r.name), str))
    database = counts.most_common(1)[0][0] if counts else "test"
    for r in statements:
        coll = r.command.get(r.name)
        if r.database == database and isinstance(coll, str):
            return database, coll
    return database, "test"


def _seen_documents(
    records: list[ProxyRecord], database: str
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Per collection, each document as a reply first showed it (by _id), but those the
    capture's own inserts created; and how many plain YAML could not hold."""
    inserted: set[tuple[str, Any]] = set()
    seen: dict[str, dict[Any, dict[str, Any]]] = {}
    skipped = 0
    for r in records:
        coll = r.command.get(r.name)
        if r.database != database or not isinstance(coll, str):
            continue
        if r.name == "insert":
            for d in r.command.get("documents") or []:
                if isinstance(d, dict) and "_id" in d and yamlable(d["_id"]):
                    inserted.add((coll, id_key(d["_id"])))
        reply = r.reply or {}
        docs: list[Any] = []
        cursor = reply.get("cursor")
        if r.name in ("find", "aggregate") and isinstance(cursor, dict):
            docs = list(cursor.get("firstBatch") or [])
            if r.name == "aggregate":
                docs = [d for d in docs if isinstance(d, dict) and "_id" in d]
        elif r.name == "findAndModify" and isinstance(reply.get("value"), dict):
            if not r.command.get("new"):  # the document before the change
                docs = [reply["value"]]
        for d in docs:
            if not isinstance(d, dict) or "_id" not in d or not yamlable(d["_id"]):
                continue
            key = id_key(d["_id"])
            if (coll, key) in inserted or key in seen.setdefault(coll, {}):
                continue
            if r.command.get("projection") or r.command.get("fields"):
                continue  # not the whole document
            if not yamlable(d):
                skipped += 1
                continue
            seen[coll][key] = plain(d)
    return {c: list(v.values()) for c, v in seen.items() if v}, skipped


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
    statements = _statements(records)
    database, default_coll = _where(statements)
    last = _last_attempts(statements)
    sessions: dict[str, _Session] = {}
    dropped: Counter[str] = Counter()
    b = _Builder(statements, database, default_coll)
    step_of: list[ProxyRecord | None] = []
    commits = _commit_concerns(statements)
    for r in statements:
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
            err = _error(final.reply) if final.reply is not None else None
            if final.reply is None:
                step.update(_expectation("commit", r.command, final))
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
        setup_documents, skipped = _seen_documents(statements, database)
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


def setup_queries(records: list[ProxyRecord]) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """What a read-only fetch of the setup asks the upstream: the scenario's database and,
    per collection, the filters of the statements that read or wrote it."""
    statements = _statements(records)
    database, default_coll = _where(statements)
    queries: dict[str, list[dict[str, Any]]] = {default_coll: []}
    for r in statements:
        coll = r.command.get(r.name)
        if r.database != database or not isinstance(coll, str):
            continue
        cmd = r.command
        found: list[Any] = []
        if r.name in ("find", "count"):
            found = [cmd.get("filter", cmd.get("query", {}))]
        elif r.name == "distinct":
            found = [cmd.get("query", {})]
        elif r.name == "findAndModify":
            found = [cmd.get("query", {})]
        elif r.name == "update":
            found = [u.get("q", {}) for u in cmd.get("updates") or []]
        elif r.name == "delete":
            found = [d.get("q", {}) for d in cmd.get("deletes") or []]
        elif r.name == "aggregate":
            pipeline = cmd.get("pipeline") or []
            first = pipeline[0] if pipeline and isinstance(pipeline[0], dict) else {}
            found = [first.get("$match", {})]
        mine = queries.setdefault(coll, [])
        for f in found:
            if isinstance(f, dict) and f not in mine:
                mine.append(f)
    return database, queries


def inserted_ids(records: list[ProxyRecord], database: str) -> set[tuple[str, Any]]:
    """(collection, _id) of the documents the capture's own inserts created."""
    out: set[tuple[str, Any]] = set()
    for r in _statements(records):
        coll = r.command.get(r.name)
        if r.name == "insert" and r.database == database and isinstance(coll, str):
            for d in r.command.get("documents") or []:
                if isinstance(d, dict) and "_id" in d and yamlable(d["_id"]):
                    out.add((coll, id_key(d["_id"])))
    return out

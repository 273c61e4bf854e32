"""One captured command as a scenario step (model.proxy_records → the format's step
mapping), with its outcome as the step's expectation; and the value helpers the capture
shares: what plain YAML holds, and mongosh literal text for what it does not. Pure."""

from __future__ import annotations

from typing import Any

from ..model.literals import format_value
from ..model.proxy_records import ProxyRecord

MAX_RESULT_ITEMS = 50
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


class StepBuilder:
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
        step.update(expectation(step["action"], cmd, last))
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


def error_expect(reply: dict[str, Any]) -> dict[str, Any] | None:
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


def expectation(action: str, cmd: dict[str, Any], last: ProxyRecord) -> dict[str, Any]:
    if not last.expects_reply:
        return {"note": "sent with moreToCome (w:0): the server gives no reply"}
    if last.reply is None:
        why = last.failure or "no reply when the capture was saved"
        return {"note": f"(no reply in the capture: {why})"}
    error = error_expect(last.reply)
    if error is not None:
        return {"error": error}
    result = _result(action, cmd, last.reply)
    if result is not None and yamlable(result):
        return {"result": plain(result)}
    return {}

"""Operation specs: what a lane's queue holds, as the user typed it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from .literals import LiteralError, format_value, parse_value
from .naming import database_problem
from .op_options import OPTION_NAMES, call_parts, describe, kind_problem, option_fields
from .op_options import validate_option as _validate_option


class OpKind(StrEnum):
    INSERT = "insert"
    INSERT_MANY = "insertMany"
    UPDATE = "update"
    UPDATE_MANY = "updateMany"
    REPLACE = "replace"
    DELETE = "delete"
    DELETE_MANY = "deleteMany"
    FIND = "find"
    FIND_ONE = "findOne"
    FIND_ONE_AND_UPDATE = "findOneAndUpdate"
    FIND_ONE_AND_REPLACE = "findOneAndReplace"
    FIND_ONE_AND_DELETE = "findOneAndDelete"
    AGGREGATE = "aggregate"
    COUNT = "countDocuments"
    DISTINCT = "distinct"
    COMMAND = "command"


class StepAction(StrEnum):
    """What a step does besides running an operation (whose action is its OpKind): the
    scenario format's names, which the journal and saved scenarios use too."""

    START_TRANSACTION = "startTransaction"
    COMMIT = "commit"
    ABORT = "abort"
    END_SESSION = "endSession"
    WITH_TRANSACTION = "withTransaction"
    SLEEP = "sleep"
    FAIL_POINT = "failPoint"
    # Commit a session's transaction through a new router connection with its recovery
    # token (backend.recovery): a client that lost its router.
    RECOVER_COMMIT = "recoverCommit"


# The fields a form shows per kind, in order. Text fields hold literals (see literals.py);
# "key" is a plain field name; "upsert" and "after" are switches. The kind's options
# (model.op_options: write / read concern, maxTimeMS, comment) follow its own fields.
_OWN_FIELDS: dict[OpKind, tuple[str, ...]] = {
    OpKind.INSERT: ("document",),
    OpKind.INSERT_MANY: ("documents",),
    OpKind.UPDATE: ("filter", "update", "upsert"),
    OpKind.UPDATE_MANY: ("filter", "update", "upsert"),
    OpKind.REPLACE: ("filter", "replacement", "upsert"),
    OpKind.DELETE: ("filter",),
    OpKind.DELETE_MANY: ("filter",),
    OpKind.FIND: ("filter", "projection", "sort", "limit"),
    OpKind.FIND_ONE: ("filter", "projection", "sort"),
    OpKind.FIND_ONE_AND_UPDATE: ("filter", "update", "projection", "sort", "upsert", "after"),
    OpKind.FIND_ONE_AND_REPLACE: ("filter", "replacement", "projection", "sort", "upsert", "after"),
    OpKind.FIND_ONE_AND_DELETE: ("filter", "projection", "sort"),
    OpKind.AGGREGATE: ("pipeline",),
    OpKind.COUNT: ("filter",),
    OpKind.DISTINCT: ("key", "filter"),
    # database: where the command runs; empty, the watched database (admin commands such as
    # configureFailPoint must run on admin: the server answers 13 Unauthorized elsewhere)
    OpKind.COMMAND: ("command", "database"),
}
FIELDS: dict[OpKind, tuple[str, ...]] = {
    kind: own + option_fields(kind.value) for kind, own in _OWN_FIELDS.items()
}

SWITCHES = frozenset({"upsert", "after"})
PLAIN = frozenset({"key", "limit", "maxTimeMS", "comment", "database"})
OPTIONAL = frozenset({"projection", "sort", "limit", "database"})
DEFAULTS: dict[str, str] = {
    "filter": "{}",
    "update": "{$set: {}}",
    "document": "{}",
    "documents": "[{}]",
    "replacement": "{}",
    "pipeline": "[{$match: {}}]",
    "command": "{ping: 1}",
    "key": "_id",
    "projection": "",
    "sort": "",
    "limit": "",
    "database": "",
}
# What a field must parse to.
SHAPES: dict[str, type] = {
    "filter": dict,
    "update": dict,  # a pipeline update (list) is also accepted, see validate_field
    "document": dict,
    "documents": list,
    "replacement": dict,
    "pipeline": list,
    "command": dict,
    "projection": dict,
    "sort": dict,
}

_ids = itertools.count(1)


def validate_field(name: str, text: str) -> tuple[Any, LiteralError | None]:
    """Parse one field's text. Returns (value, error)."""
    if name in OPTION_NAMES:
        return _validate_option(name, text)
    if name in SWITCHES:
        return text.lower() in ("1", "true", "yes", "on"), None
    if name in OPTIONAL and not text.strip():
        return None, None
    if name == "key":
        key = text.strip()
        if not key:
            return None, LiteralError("type a field name", 1, 1)
        return key, None
    if name == "database":
        problem = database_problem(text.strip())
        return (None, LiteralError(problem, 1, 1)) if problem else (text.strip(), None)
    if name == "limit":
        try:
            return int(text.strip()), None
        except ValueError:
            return None, LiteralError("limit must be a whole number", 1, 1)
    try:
        value = parse_value(text)
    except LiteralError as exc:
        return None, exc
    shape = SHAPES.get(name)
    if shape is dict and not isinstance(value, dict):
        if name == "update" and isinstance(value, list):
            return value, None
        return None, LiteralError(f"{name} must be a document {{...}}", 1, 1)
    if shape is list:
        if not isinstance(value, list):
            return None, LiteralError(f"{name} must be an array [...]", 1, 1)
        if not all(isinstance(v, dict) for v in value):
            return None, LiteralError(f"every item of {name} must be a document", 1, 1)
    if name == "update" and isinstance(value, dict) and value:
        if not all(str(k).startswith("$") for k in value):
            return None, LiteralError(
                "an update needs operators ($set, $inc, ...); use replace for a whole document",
                1,
                1,
            )
    return value, None


@dataclass
class OpSpec:
    """One queued operation: kind, target collection and the raw field texts."""

    kind: OpKind
    collection: str = "accounts"
    texts: dict[str, str] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))

    @classmethod
    def new(cls, kind: OpKind | str, collection: str = "accounts", **texts: str) -> OpSpec:
        kind = OpKind(kind)
        # options are in the texts only when set (model.op_options)
        full = {name: DEFAULTS.get(name, "") for name in FIELDS[kind] if name not in OPTION_NAMES}
        for name in FIELDS[kind]:
            if name in SWITCHES:
                full[name] = "false"
        for name, text in texts.items():
            if name not in FIELDS[kind]:
                raise ValueError(f"{kind.value} has no field {name!r}")
            full[name] = text if isinstance(text, str) else str(text).lower()
        return cls(kind=kind, collection=collection, texts=full)

    def copy(self) -> OpSpec:
        return replace(self, texts=dict(self.texts), id=next(_ids))

    def errors(self) -> dict[str, LiteralError]:
        """Field errors, cached against the texts (panels ask on every render)."""
        return self._parsed()[1]

    def _parsed(self) -> tuple[dict[str, Any], dict[str, LiteralError]]:
        """(values, errors), parsed once per version of the texts: a big document is
        parsed when it is typed, not again by every render and by the step that runs it."""
        key = (self.kind, self.collection, tuple(sorted(self.texts.items())))
        cached = getattr(self, "_parsed_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        values: dict[str, Any] = {}
        errors: dict[str, LiteralError] = {}
        if not self.collection.strip() and self.kind is not OpKind.COMMAND:
            errors["collection"] = LiteralError("type a collection name", 1, 1)
        for name in FIELDS[self.kind]:
            value, err = validate_field(name, self.texts.get(name, ""))
            if err is not None:
                errors[name] = err
            else:
                values[name] = value
        problem = kind_problem(self.kind.value, values)
        if problem is not None:
            errors[problem[0]] = LiteralError(problem[1], 1, 1)
        object.__setattr__(self, "_parsed_cache", (key, (values, errors)))
        return values, errors

    def values(self) -> dict[str, Any]:
        """Parsed field values (a fresh copy of the top level); raise the first
        LiteralError. The values are shared with the cache: don't change them in place."""
        values, errors = self._parsed()
        for name in FIELDS[self.kind]:
            if name in errors:
                raise errors[name]
        return dict(values)

    def label(self, width: int = 60, collection: bool = True) -> str:
        """One line: `update accounts {_id: 'alice'} {$inc: ...}`."""
        parts = [self.kind.value]
        if self.kind is not OpKind.COMMAND and collection:
            parts.append(self.collection)
        if self.kind is OpKind.COMMAND and self.texts.get("database", "").strip():
            parts.append(f"on {self.texts['database'].strip()}")
        for name in FIELDS[self.kind]:
            if name == "database":
                continue
            text = " ".join(self.texts.get(name, "").split())
            if name in OPTION_NAMES:
                continue  # written after the fields, short (w:0 rc:majority ...)
            if name in SWITCHES:
                if text == "true":
                    parts.append(name)
                continue
            if not text or (name == "filter" and text == "{}" and len(FIELDS[self.kind]) > 1):
                continue
            parts.append(text)
        values, errors = self._parsed()
        options = describe({k: v for k, v in values.items() if k in OPTION_NAMES})
        if options:
            parts.append(f"[{options}]")
        elif any(name in OPTION_NAMES for name in errors):
            parts.append("[options ✗]")
        line = " ".join(parts)
        return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(frozen=True)
class DriverCall:
    """One operation as the pymongo call that runs it, in plain values: the method of a
    collection (of the database for a command), its positional arguments, its keyword
    options, whether it gives a cursor whose documents are the result, and what the
    collection's `with_options` gets first: `write_concern` (WriteConcern's keywords) and
    `read_concern` (a level), the operation's own concerns (model.op_options)."""

    method: str
    args: list[Any]
    options: dict[str, Any]
    listed: bool
    concerns: dict[str, Any] = field(default_factory=dict)
    database: str | None = None  # a command's own database (None: the watched one)


# kind → (pymongo method, the fields passed by position). The kind's other fields are
# keyword options. One table: the backend runs it, the export writes it as code.
DRIVER_METHODS: dict[OpKind, tuple[str, tuple[str, ...]]] = {
    OpKind.INSERT: ("insert_one", ("document",)),
    OpKind.INSERT_MANY: ("insert_many", ("documents",)),
    OpKind.UPDATE: ("update_one", ("filter", "update")),
    OpKind.UPDATE_MANY: ("update_many", ("filter", "update")),
    OpKind.REPLACE: ("replace_one", ("filter", "replacement")),
    OpKind.DELETE: ("delete_one", ("filter",)),
    OpKind.DELETE_MANY: ("delete_many", ("filter",)),
    OpKind.FIND: ("find", ("filter", "projection")),
    OpKind.FIND_ONE: ("find_one", ("filter", "projection")),
    OpKind.FIND_ONE_AND_UPDATE: ("find_one_and_update", ("filter", "update")),
    OpKind.FIND_ONE_AND_REPLACE: ("find_one_and_replace", ("filter", "replacement")),
    OpKind.FIND_ONE_AND_DELETE: ("find_one_and_delete", ("filter",)),
    OpKind.AGGREGATE: ("aggregate", ("pipeline",)),
    OpKind.COUNT: ("count_documents", ("filter",)),
    OpKind.DISTINCT: ("distinct", ("key", "filter")),
    OpKind.COMMAND: ("command", ("command",)),
}


def driver_call(kind: OpKind, values: dict[str, Any]) -> DriverCall:
    """The call for an operation whose fields were parsed into `values` (OpSpec.values).
    `return_document` is named by ReturnDocument's attribute ("AFTER")."""
    method, positional = DRIVER_METHODS[kind]
    args = [values.get(name) for name in positional]
    while args and args[-1] is None:  # an optional trailing argument left empty
        args.pop()
    options: dict[str, Any] = {}
    for name in FIELDS[kind]:
        value = values.get(name)
        if name in OPTION_NAMES:
            continue  # below: op_options.call_parts
        if name in positional or value is None or value is False:
            continue
        if name in positional or name == "database" or value is None or value is False:
            continue  # the database names the call's target (DriverCall.database)
        if name == "sort":
            if value:
                options["sort"] = list(value.items())
        elif name == "limit":
            if value:
                options["limit"] = int(value)
        elif name == "after":
            options["return_document"] = "AFTER"
        else:  # projection, upsert
            options[name] = value
    concerns, extra = call_parts(kind.value, values)
    options.update(extra)
    listed = kind in (OpKind.FIND, OpKind.AGGREGATE)
    return DriverCall(method, args, options, listed, concerns, values.get("database") or None)


# A write with w: 0: the server sends no reply, so nothing says what it did.
UNACKNOWLEDGED = "unacknowledged (w: 0): sent, no reply; the server does not say what it did"


def summarize(kind: OpKind, result: Any) -> str:
    """A short result summary for the queue and the timeline, from the result as plain
    documents (backend.operations.plain: insertedId, matchedCount, ...)."""
    if result is None:
        return "no document" if kind.value.startswith("findOne") else "ok"
    if isinstance(result, dict) and result.get("acknowledged") is False:
        return UNACKNOWLEDGED
    if kind is OpKind.INSERT:
        return f"inserted _id {format_value(result['insertedId'])}"
    if kind is OpKind.INSERT_MANY:
        return f"inserted {len(result['insertedIds'])}"
    if kind in (OpKind.UPDATE, OpKind.UPDATE_MANY, OpKind.REPLACE):
        text = f"matched {result['matchedCount']}, modified {result['modifiedCount']}"
        if "upsertedId" in result:
            text += f", upserted {format_value(result['upsertedId'])}"
        return text
    if kind in (OpKind.DELETE, OpKind.DELETE_MANY):
        return f"deleted {result['deletedCount']}"
    if kind in (OpKind.FIND, OpKind.AGGREGATE):
        return f"{len(result)} doc{'s' if len(result) != 1 else ''}"
    if kind is OpKind.COUNT:
        return f"count {result}"
    if kind is OpKind.DISTINCT:
        return f"{len(result)} value{'s' if len(result) != 1 else ''}: {format_value(result)}"
    if isinstance(result, dict):
        return format_value(result)
    return str(result)

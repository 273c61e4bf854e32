"""Per-operation options: write concern, read concern, maxTimeMS, comment.

They are fields of an operation like its filter (model.ops.FIELDS lists them after the
kind's own), typed as literals: `{w: 0}`, `{w: 'majority', j: true, wtimeout: 500}`,
`{level: 'snapshot', atClusterTime: Timestamp(1700000000, 1)}`. Empty means not set: the
collection's (the client's) own concern, and no maxTimeMS or comment.
"""

from __future__ import annotations

from typing import Any

from .literals import LiteralError

WRITE_CONCERN = "writeConcern"
READ_CONCERN = "readConcern"
MAX_TIME = "maxTimeMS"
COMMENT = "comment"
OPTION_NAMES = (WRITE_CONCERN, READ_CONCERN, MAX_TIME, COMMENT)

# Read concern levels (manual: "Read Concern"); the server answers for each.
LEVELS = ("local", "available", "majority", "linearizable", "snapshot")

# Kinds by what pymongo lets an operation carry (its method's parameters):
# - a write concern: every write method, through the collection's with_options;
# - a read concern: the read methods, through with_options (a level only: pymongo's
#   ReadConcern has no atClusterTime) or, for aggregate, countDocuments and distinct,
#   whose extra keyword arguments pymongo puts into the command, as the document typed;
# - maxTimeMS: the methods that take it (insert_one, update_one, delete_one... do not:
#   run those as findOneAndUpdate or a command to bound them).
WRITES = frozenset(
    {
        "insert",
        "insertMany",
        "update",
        "updateMany",
        "replace",
        "delete",
        "deleteMany",
        "findOneAndUpdate",
        "findOneAndReplace",
        "findOneAndDelete",
    }
)
READS = frozenset({"find", "findOne", "aggregate", "countDocuments", "distinct"})
READ_CONCERN_IN_COMMAND = frozenset({"aggregate", "countDocuments", "distinct"})
TIMED = frozenset(
    {
        "find",
        "findOne",
        "aggregate",
        "countDocuments",
        "distinct",
        "findOneAndUpdate",
        "findOneAndReplace",
        "findOneAndDelete",
        "command",
    }
)

HINTS = {
    WRITE_CONCERN: "write concern (optional), e.g. {w: 0} or {w: 'majority', j: true, wtimeout: 500}",
    READ_CONCERN: "read concern (optional), e.g. {level: 'majority'} or {level: 'snapshot'}",
    MAX_TIME: "maxTimeMS (optional): the server stops it after this many ms (error 50)",
    COMMENT: "comment (optional): shown in $currentOp and the server's log",
}


def option_fields(kind: str) -> tuple[str, ...]:
    """The options an operation of this kind can carry, in the form's order."""
    out: list[str] = []
    if kind in WRITES:
        out.append(WRITE_CONCERN)
    if kind in READS:
        out.append(READ_CONCERN)
    if kind in TIMED:
        out.append(MAX_TIME)
    out.append(COMMENT)
    return tuple(out)


def check_write_concern(value: Any) -> str | None:
    """What is wrong with a write concern document, or None."""
    if not isinstance(value, dict):
        return "writeConcern must be a document, e.g. {w: 1}"
    extra = set(value) - {"w", "j", "wtimeout"}
    if extra:
        return f"writeConcern takes w, j and wtimeout, not {', '.join(sorted(extra))}"
    w = value.get("w")
    if w is not None and not (
        (isinstance(w, int) and not isinstance(w, bool) and w >= 0) or isinstance(w, str)
    ):
        return "w is a number of members (0, 1, 2...) or a name such as 'majority'"
    if "j" in value and not isinstance(value["j"], bool):
        return "j is true or false"
    wt = value.get("wtimeout")
    if wt is not None and (not isinstance(wt, int) or isinstance(wt, bool) or wt < 0):
        return "wtimeout is a number of milliseconds"
    return None


def check_read_concern(value: Any) -> str | None:
    """What is wrong with a read concern document, or None (the kind is checked apart)."""
    if not isinstance(value, dict):
        return "readConcern must be a document, e.g. {level: 'majority'}"
    extra = set(value) - {"level", "atClusterTime"}
    if extra:
        return f"readConcern takes level and atClusterTime, not {', '.join(sorted(extra))}"
    if value.get("level") not in LEVELS:
        return "level is one of " + ", ".join(LEVELS)
    if "atClusterTime" in value:
        if value["level"] != "snapshot":
            return "atClusterTime goes with level 'snapshot'"
        if type(value["atClusterTime"]).__name__ != "Timestamp":
            return "atClusterTime is a Timestamp(seconds, increment)"
    return None


def kind_problem(kind: str, values: dict[str, Any]) -> tuple[str, str] | None:
    """(field, problem) when an option the field allows cannot go with this kind."""
    rc = values.get(READ_CONCERN)
    if isinstance(rc, dict) and "atClusterTime" in rc and kind not in READ_CONCERN_IN_COMMAND:
        # pymongo's ReadConcern carries a level only, and find takes no command fields.
        return READ_CONCERN, (
            f"pymongo's {kind} takes a read concern level only; read at a cluster time "
            "with aggregate, countDocuments or distinct, or in a snapshot session"
        )
    return None


def validate_option(name: str, text: str) -> tuple[Any, LiteralError | None]:
    """Parse one option's text (empty: not set)."""
    from .literals import parse_value

    text = text.strip()
    if not text:
        return None, None
    if name == MAX_TIME:
        if not text.isdigit():
            return None, LiteralError("maxTimeMS must be a whole number of milliseconds", 1, 1)
        return int(text), None
    if name == COMMENT:
        return text, None
    try:
        value = parse_value(text)
    except LiteralError as exc:
        return None, exc
    check = check_write_concern if name == WRITE_CONCERN else check_read_concern
    problem = check(value)
    if problem is not None:
        return None, LiteralError(problem, 1, 1)
    return value, None


def call_parts(kind: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(with_options arguments, keyword options) for the options set in `values`:
    with_options gets `write_concern` (WriteConcern's keywords) and `read_concern` (a
    level); the method gets maxTimeMS / max_time_ms, comment and, for the commands
    pymongo lets take extra fields, the readConcern document as typed."""
    concerns: dict[str, Any] = {}
    options: dict[str, Any] = {}
    wc = values.get(WRITE_CONCERN)
    if wc is not None:
        concerns["write_concern"] = dict(wc)
    rc = values.get(READ_CONCERN)
    if rc is not None:
        if kind in READ_CONCERN_IN_COMMAND:
            options["readConcern"] = dict(rc)
        else:
            concerns["read_concern"] = rc["level"]
    ms = values.get(MAX_TIME)
    if ms is not None:
        options["max_time_ms" if kind in ("find", "findOne") else "maxTimeMS"] = ms
    comment = values.get(COMMENT)
    if comment is not None:
        options["comment"] = comment
    return concerns, options


def describe(values: dict[str, Any]) -> str:
    """`w:0 j wtimeout:500 rc:majority maxTimeMS:100 comment:'x'` for the queue's line."""
    from .literals import format_short

    parts: list[str] = []
    wc = values.get(WRITE_CONCERN)
    if wc:
        if "w" in wc:
            parts.append(f"w:{wc['w']}")
        if wc.get("j"):
            parts.append("j")
        if "wtimeout" in wc:
            parts.append(f"wtimeout:{wc['wtimeout']}")
    rc = values.get(READ_CONCERN)
    if rc:
        text = f"rc:{rc['level']}"
        if "atClusterTime" in rc:
            text += f"@{format_short(rc['atClusterTime'])}"
        parts.append(text)
    if values.get(MAX_TIME) is not None:
        parts.append(f"maxTimeMS:{values[MAX_TIME]}")
    if values.get(COMMENT) is not None:
        parts.append(f"comment:{format_short(values[COMMENT])}")
    return " ".join(parts)

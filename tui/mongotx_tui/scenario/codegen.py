"""One scenario step as Python: the pymongo call, on its session, for sync or async code."""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field

from ..model.lanes import TxnOptions
from ..model.ops import OpKind, OpSpec
from .pyliteral import PyLiteral, pystr

METHODS = {
    OpKind.INSERT: "insert_one",
    OpKind.INSERT_MANY: "insert_many",
    OpKind.UPDATE: "update_one",
    OpKind.UPDATE_MANY: "update_many",
    OpKind.REPLACE: "replace_one",
    OpKind.DELETE: "delete_one",
    OpKind.DELETE_MANY: "delete_many",
    OpKind.FIND: "find",
    OpKind.FIND_ONE: "find_one",
    OpKind.FIND_ONE_AND_UPDATE: "find_one_and_update",
    OpKind.FIND_ONE_AND_REPLACE: "find_one_and_replace",
    OpKind.FIND_ONE_AND_DELETE: "find_one_and_delete",
    OpKind.AGGREGATE: "aggregate",
    OpKind.COUNT: "count_documents",
    OpKind.DISTINCT: "distinct",
    OpKind.COMMAND: "command",
}
POSITIONAL = ("document", "documents", "filter", "key", "update", "replacement", "pipeline")


# Names the script defines or uses, and those export.py numbers (callback_3, txn_5, ...).
SCRIPT_NAMES = {
    "client", "db", "database", "pool", "step", "show", "run", "main", "play", "prepare", "finish",
    "report", "listed", "describe_error", "session", "restore", "result", "exc",
    "DATABASE", "SETUP", "PARAMETERS", "LABELS", "sys", "time", "asyncio", "inspect",
    "datetime", "json_util", "Any", "Callable", "ThreadPoolExecutor", "MongoClient",
    "AsyncMongoClient", "WriteConcern", "ReadConcern", "ReturnDocument", "PyMongoError",
    "ObjectId", "Int64", "Decimal128", "Binary", "Timestamp", "MinKey", "MaxKey",
    "PREFIX", "argparse", "arguments", "masked", "database_for", "refused", "Refused",
    "guard", "allow_drop", "uri", "args", "occupied",
}  # fmt: skip
NUMBERED = re.compile(r"(callback|txn|attempts|blocked)_\d+")


def identifier(name: str, taken: set[str]) -> str:
    """A Python variable for a session or collection name: ASCII letters, digits and _ only
    (never the name's own characters as code), distinct from every other name used."""
    base = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_") or "s"
    if (
        base[0].isdigit()
        or keyword.iskeyword(base)
        or keyword.issoftkeyword(base)
        or base in SCRIPT_NAMES
        or hasattr(builtins, base)
        or NUMBERED.fullmatch(base)
    ):
        base = f"s_{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


@dataclass
class Names:
    """Variable names in the generated code."""

    sessions: dict[str, str] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=lambda: set(SCRIPT_NAMES))

    def session(self, name: str) -> str:
        if name not in self.sessions:
            self.sessions[name] = identifier(name, self.taken)
        return self.sessions[name]

    def collection(self, name: str) -> str:
        if name not in self.collections:
            self.collections[name] = identifier(name, self.taken)
        return self.collections[name]


def op_expr(spec: OpSpec, session: str, names: Names, lit: PyLiteral, aio: bool) -> str:
    """The pymongo call for one operation, with session= on it."""
    v = spec.values()
    kind = spec.kind
    target = "db" if kind is OpKind.COMMAND else names.collection(spec.collection.strip())
    args = [lit(v[f]) for f in POSITIONAL if f in v and v[f] is not None]
    if kind is OpKind.COMMAND:
        args = [lit(v["command"])]
    if v.get("projection"):
        args.append(lit(v["projection"]) if kind is OpKind.FIND else "")
        if kind is not OpKind.FIND:
            args[-1] = f"projection={lit(v['projection'])}"
    if v.get("sort"):
        args.append(f"sort={lit(list(v['sort'].items()))}")
    if v.get("limit"):
        args.append(f"limit={int(v['limit'])!r}")
    if v.get("upsert"):
        args.append("upsert=True")
    if v.get("after"):
        args.append("return_document=ReturnDocument.AFTER")
    args.append(f"session={session}")
    call = f"{target}.{METHODS[kind]}({', '.join(args)})"
    if kind in (OpKind.FIND, OpKind.AGGREGATE):
        return f"listed({call})" if aio else f"list({call})"
    return call


def txn_args(opts: TxnOptions) -> str:
    """Keyword arguments for start_transaction / with_transaction; every value a literal."""
    parts = []
    if opts.read_concern:
        parts.append(f"read_concern=ReadConcern({pystr(opts.read_concern)})")
    if opts.write_concern:
        wc = opts.write_concern
        w = repr(int(wc)) if wc.isascii() and wc.isdigit() else pystr(wc)
        parts.append(f"write_concern=WriteConcern(w={w})")
    if opts.max_commit_time_ms:
        parts.append(f"max_commit_time_ms={int(opts.max_commit_time_ms)!r}")
    return ", ".join(parts)

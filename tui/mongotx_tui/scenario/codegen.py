"""One scenario step as Python: the pymongo call, on its session, for sync or async code."""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field

from ..model.lanes import LaneOptions, TxnOptions
from ..model.ops import OpKind, OpSpec, driver_call
from .pyliteral import PyLiteral, pystr

# Names the script defines or uses, and those export.py numbers (callback_3, txn_5, ...).
SCRIPT_NAMES = {
    "client", "db", "database", "pool", "step", "show", "run", "main", "play", "prepare", "finish",
    "report", "listed", "describe_error", "session", "restore", "result", "exc",
    "DATABASE", "SETUP", "PARAMETERS", "LABELS", "sys", "time", "asyncio", "inspect",
    "datetime", "json_util", "Any", "Callable", "ThreadPoolExecutor", "MongoClient",
    "AsyncMongoClient", "WriteConcern", "ReadConcern", "ReadPreference", "ReturnDocument",
    "PyMongoError",
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
    clients: dict[str, str] = field(default_factory=dict)  # a session's own client
    taken: set[str] = field(default_factory=lambda: set(SCRIPT_NAMES))

    def session(self, name: str) -> str:
        if name not in self.sessions:
            self.sessions[name] = identifier(name, self.taken)
        return self.sessions[name]

    def client(self, session: str) -> str:
        """The variable of a session's own client (retryWrites off: a client option)."""
        if session not in self.clients:
            self.clients[session] = identifier(f"client_{session}", self.taken)
        return self.clients[session]

    def collection(self, name: str) -> str:
        if name not in self.collections:
            self.collections[name] = identifier(name, self.taken)
        return self.collections[name]


def op_expr(
    spec: OpSpec, session: str, names: Names, lit: PyLiteral, aio: bool, db: str = ""
) -> str:
    """The pymongo call for one operation, with session= on it (model.ops.driver_call: the
    table the workbench runs it from). `db`: the database of the session's own client (a
    session with retryWrites off), else the script's `db` and its collection variables."""
    kind = spec.kind
    call = driver_call(kind, spec.values())
    if call.database is not None:  # a command given its own database (admin, ...)
        target = f"client[{pystr(call.database)}]"
    elif kind is OpKind.COMMAND:
        target = db or "db"
    elif db:
        target = f"{db}[{lit(spec.collection.strip())}]"
    else:
        target = names.collection(spec.collection.strip())
    if call.concerns:  # the operation's own concerns, as the workbench sets them
        target += f".with_options({concern_args(call.concerns, lit)})"
    args = [lit(a) for a in call.args]
    for name, value in call.options.items():
        if name == "return_document":
            args.append(f"return_document=ReturnDocument.{value}")
        elif name == "limit":
            args.append(f"limit={int(value)!r}")
        else:
            args.append(f"{name}={lit(value)}")
    args.append(f"session={session}")
    text = f"{target}.{call.method}({', '.join(args)})"
    if call.listed:
        return f"listed({text})" if aio else f"list({text})"
    return text


def concern_args(concerns: dict[str, object], lit: PyLiteral) -> str:
    """DriverCall.concerns as with_options' keyword arguments."""
    parts = []
    if "write_concern" in concerns:
        wc = concerns["write_concern"]
        assert isinstance(wc, dict)
        inner = ", ".join(f"{key}={lit(value)}" for key, value in wc.items())
        parts.append(f"write_concern=WriteConcern({inner})")
    if "read_concern" in concerns:
        parts.append(f"read_concern=ReadConcern({lit(concerns['read_concern'])})")
    return ", ".join(parts)


def session_args(options: LaneOptions) -> str:
    """start_session's keyword arguments, from the table the workbench starts its sessions
    with (LaneOptions.session_args)."""
    return ", ".join(f"{key}={value!r}" for key, value in options.session_args().items())


def client_args(options: LaneOptions) -> str:
    """A session's own client's options besides the URI (LaneOptions.client_args)."""
    return ", ".join(f"{key}={value!r}" for key, value in options.client_args().items())


def txn_args(opts: TxnOptions) -> str:
    """Keyword arguments for start_transaction / with_transaction, every value a literal,
    from the table the workbench starts its transactions from (TxnOptions.driver_args)."""
    parts = []
    for name, cls, arg in opts.driver_args():
        value = repr(arg) if isinstance(arg, int) else pystr(arg)
        if cls == "WriteConcern":
            value = f"WriteConcern(w={value})"
        elif cls == "ReadPreference":
            value = f"ReadPreference.{arg}"  # an attribute name from model.lanes' table
        elif cls:
            value = f"{cls}({value})"
        parts.append(f"{name}={value}")
    return ", ".join(parts)

"""The database profiler and the slow-operation log line (manual: reference/
database-profiler, tutorial/manage-the-database-profiler, reference/command/profile).

When a command ends, mongod decides whether to log it ("Slow query", id 51803) and whether
to write it to `<db>.system.profile` [srv:db/curop.cpp CurOp::completeAndLogOperation,
util/log_with_sampling.h shouldLogSlowOpWithSampling; db/introspect.cpp (profile.cpp)
profile]: without a filter, an operation is slow when it took at least `slowms` and is
sampled (`sampleRate`); it is logged when slow, profiled at level 1 when slow and at level
2 always; with the database's `filter`, the filter decides both instead. Level, filter are
per database; `slowms` and `sampleRate` are the server's.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import bson

from . import engine, log_verbosity, ramlog
from .errors import CommandError, internal_error

if TYPE_CHECKING:
    from .connections import Connection
    from .operations import RunningOp
    from .state import ServerState
    from .store import Collection

# Defaults of the server parameters slowms and sampleRate (manual: reference/
# configuration-options operationProfiling.slowOpThresholdMs, slowOpSampleRate).
SLOW_MS = 100
PROFILE_COLLECTION = "system.profile"
# system.profile is a capped collection of 1 MiB (manual: reference/database-profiler,
# "The system.profile Collection"; tutorial/manage-the-database-profiler).
PROFILE_BYTES = 1024 * 1024
# A profiled command larger than 50 KiB is kept as a `$truncated` string of its start
# [srv:db/curop.cpp appendMaxElementSize, curop_bson_helpers appendObjectTruncatingAsNecessary].
_MAX_COMMAND_BYTES = 50 * 1024
# Commands mongod keeps out of the log and the profiler: they carry credentials
# [srv:db/curop.cpp shouldOmitDiagnosticInformation; Command::sensitiveFieldName].
_OMITTED = frozenset({"saslStart", "saslContinue", "authenticate", "createUser", "updateUser"})
SLOW_QUERY_ID = 51803


class ProfilerSettings:
    """The profiler's settings: levels and filters by database, slowms, sampleRate."""

    def __init__(self) -> None:
        self.levels: dict[str, int] = {}
        self.filters: dict[str, dict[str, Any]] = {}
        self.slow_ms: int = SLOW_MS
        self.sample_rate: float = 1.0
        # Per database: the system.profile collection written to and its entries in
        # order, (key, size), to drop the oldest once over PROFILE_BYTES (capped).
        self.written: dict[str, tuple[Collection, deque[tuple[Hashable, int]], list[int]]] = {}
        self.next_key = 0

    def level(self, db: str) -> int:
        return self.levels.get(db, 0)


def settings(state: ServerState) -> ProfilerSettings:
    """The server's profiler settings, made on first use."""
    found = state.profiler
    if found is None:
        found = state.profiler = ProfilerSettings()
    return found


def complete(
    state: ServerState,
    conn: Connection,
    op: RunningOp,
    error: CommandError | None,
    reply: dict[str, Any] | None,
) -> None:
    """Log and profile the command that just ended, as its settings say."""
    found: ProfilerSettings | None = state.profiler
    elapsed = time.monotonic() - op.started_mono
    # At COMMAND verbosity 1 or more every operation is logged, whatever its duration
    # [srv:util/log_with_sampling.h shouldLogSlowOpWithSampling: componentHasTargetLogVerbosity].
    verbose = (
        "logComponentVerbosity" in state.parameters
        and log_verbosity.command_level(state.parameters) >= 1
    )
    if found is None:  # the profiler never set: only slow operations are logged
        if elapsed * 1000 < SLOW_MS and not verbose:
            return
        level, flt = 0, None
    else:
        db = op.ns.split(".", 1)[0]
        level = found.level(db)
        flt = found.filters.get(db)
        if flt is None and level < 2 and elapsed * 1000 < found.slow_ms and not verbose:
            return  # the common case: fast, and not profiled
    if op.name in _OMITTED:
        return
    try:
        millis = int(elapsed * 1000)
        _complete(state, conn, op, error, reply, found, millis, level, flt, verbose)
    except Exception as exc:  # a bug of ours must not fail the command that ended
        internal_error("the profiler", exc)  # logged once, with its stack


def _complete(
    state: ServerState,
    conn: Connection,
    op: RunningOp,
    error: CommandError | None,
    reply: dict[str, Any] | None,
    found: ProfilerSettings | None,
    millis: int,
    level: int,
    flt: dict[str, Any] | None,
    verbose: bool = False,
) -> None:
    slow_ms = found.slow_ms if found is not None else SLOW_MS
    db = op.ns.split(".", 1)[0]
    entry = _entry(state, conn, op, error, reply, millis)
    if flt is not None:
        try:
            should_log = engine.matches(flt, entry)
        except engine.EngineError:
            should_log = False
        profile_at_1 = should_log
    else:
        rate = found.sample_rate if found is not None else 1.0
        sampled = rate >= 1.0 or random.random() < rate
        should_log = profile_at_1 = sampled and millis >= slow_ms
        # Verbosity logs it unsampled, and does not profile it [shouldLogSlowOpWithSampling].
        should_log = should_log or verbose
    if should_log:
        _log_slow(state, conn, op, error, entry)
    if level >= 2 or (level == 1 and profile_at_1):
        _write(state, db, entry)


def _entry(
    state: ServerState,
    conn: Connection,
    op: RunningOp,
    error: CommandError | None,
    reply: dict[str, Any] | None,
    millis: int,
) -> dict[str, Any]:
    """The system.profile document, in the order of OpDebug::append then profile()'s
    own fields [srv:db/curop.cpp OpDebug::append; db/introspect.cpp profile]."""
    entry: dict[str, Any] = {"op": op.op, "ns": op.ns, "command": _command(op.body)}
    if op.prepare_read_conflicts > 0:
        entry["prepareReadConflicts"] = op.prepare_read_conflicts
    if op.write_conflicts > 0:
        entry["writeConflicts"] = op.write_conflicts
    entry["numYield"] = 0
    entry["locks"] = {}
    entry["flowControl"] = {}
    rc = op.body.get("readConcern")
    if isinstance(rc, dict):
        entry["readConcern"] = rc
    if error is not None:
        entry["ok"] = 0.0
        entry["errMsg"] = error.message
        entry["errName"] = error.code_name
        entry["errCode"] = error.code
    if reply is not None:
        entry["responseLength"] = len(bson.encode(reply))
    entry["protocol"] = "op_msg"
    entry["millis"] = millis
    entry["ts"] = datetime.now(UTC)
    entry["client"] = conn.peer.rsplit(":", 1)[0]
    if conn.app_name:
        entry["appName"] = conn.app_name
    entry["allUsers"] = []
    entry["user"] = ""
    return entry


def _command(body: dict[str, Any]) -> dict[str, Any]:
    """The command as the client sent it, truncated when large."""
    try:
        size = len(bson.encode(body))
    except Exception:  # a value bson cannot hold: keep what can be said of it
        return {"$truncated": "", "comment": body.get("comment")}
    if size <= _MAX_COMMAND_BYTES:
        return dict(body)
    text = bson.json_util.dumps(body)[:_MAX_COMMAND_BYTES]
    out: dict[str, Any] = {"$truncated": text}
    if "comment" in body:
        out["comment"] = body["comment"]
    return out


def _log_slow(
    state: ServerState,
    conn: Connection,
    op: RunningOp,
    error: CommandError | None,
    entry: dict[str, Any],
) -> None:
    """The "Slow query" line, its attributes in OpDebug::report's order [srv:db/curop.cpp
    OpDebug::report]: a duration attribute `X` is written `XMillis` (logv2's Milliseconds).
    """
    attr: dict[str, Any] = {"type": "command", "isFromUserConnection": True, "ns": op.ns}
    if conn.app_name:
        attr["appName"] = conn.app_name
    attr["command"] = entry["command"]
    prepare_ms = int(op.prepare_conflict_seconds * 1000)
    if prepare_ms > 0:
        attr["prepareConflictDurationMillis"] = prepare_ms
    if op.prepare_read_conflicts > 0:
        attr["prepareReadConflicts"] = op.prepare_read_conflicts
    if op.write_conflicts > 0:
        attr["writeConflicts"] = op.write_conflicts
    attr["numYields"] = 0
    if error is not None:
        attr["ok"] = 0
        attr["errMsg"] = error.message
        attr["errName"] = error.code_name
        attr["errCode"] = error.code
    if "responseLength" in entry:
        attr["reslen"] = entry["responseLength"]
    attr["locks"] = {}
    if "readConcern" in entry:
        attr["readConcern"] = entry["readConcern"]
    attr["remote"] = conn.peer
    attr["protocol"] = "op_msg"
    attr["durationMillis"] = entry["millis"]
    ramlog.logs(state).global_log.write(
        SLOW_QUERY_ID, "Slow query", attr, component="COMMAND", ctx=f"conn{conn.id}"
    )


def _write(state: ServerState, db: str, entry: dict[str, Any]) -> None:
    """Insert `entry` into `db`.system.profile, made if missing, a capped collection: the
    oldest entries go once it holds more than PROFILE_BYTES. Profile writes are not
    replicated and take no cluster time (system.profile is unreplicated)."""
    found = settings(state)
    coll = state.catalog.get(db, PROFILE_COLLECTION)
    if coll is None:
        coll = create_collection(state, db)
    kept = found.written.get(db)
    if kept is None or kept[0] is not coll:
        kept = found.written[db] = (coll, deque(), [0])
    _, order, size = kept
    found.next_key += 1
    key = ("$profile", found.next_key)
    n = len(bson.encode(entry))
    seq = state.clock.now()
    history = state.catalog.version_history
    while order and size[0] + n > PROFILE_BYTES:
        old_key, old_n = order.popleft()
        coll.append(old_key, seq, None, history)
        size[0] -= old_n
    coll.append(key, seq, entry, history)
    order.append((key, n))
    size[0] += n


def create_collection(state: ServerState, db: str) -> Collection:
    """`db`.system.profile, capped at 1 MiB (mongod creates it when profiling starts
    [srv:db/introspect.cpp createProfileDatabaseAndCollection])."""
    coll = state.catalog.get(db, PROFILE_COLLECTION)
    if coll is None:
        options = {"capped": True, "size": PROFILE_BYTES}
        coll = state.catalog.create(db, PROFILE_COLLECTION, options, state.clock.now())
    return coll


def check_level(value: Any) -> int:
    """The `profile` command's level: -1 (read the settings), 0, 1 or 2."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise CommandError(
            14,
            f"BSON field 'profile.profile' is the wrong type '{engine.type_name(value)}', "
            "expected types '[long, int, decimal, double]'",
        )
    level = int(value)
    if level < -1 or level > 2:
        raise CommandError(2, "Profiling level must be between -1 and 2")
    return level

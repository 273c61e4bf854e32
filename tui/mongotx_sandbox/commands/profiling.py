"""profile, getLog and clearLog: the database profiler's settings and the server log
(profiler.py, ramlog.py)."""

from __future__ import annotations

from typing import Any

from .. import engine, profiler, ramlog
from ..access import OpContext
from ..errors import CommandError
from .registry import command

_FILTER_NOTE = (
    "When a filter expression is set, slowms and sampleRate are not used for profiling and "
    "slow-query log lines."
)


@command("profile")
async def profile(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Set or read the database's profiling level and filter, and the server's slowms and
    sampleRate; answers the settings as they were [srv:db/commands/profile_common.cpp
    ProfileCmdBase::run; db/commands/dbcommands.cpp CmdProfile::_applyProfilingLevel]."""
    level = _number(body, "profile")
    slow_ms = _number(body, "slowms") if "slowms" in body else None
    rate = _number(body, "sampleRate") if "sampleRate" in body else None
    if rate is not None and not 0.0 <= rate <= 1.0:
        raise CommandError(2, "'sampleRate' must be between 0.0 and 1.0 inclusive")
    new_filter = _filter(body["filter"]) if "filter" in body else None
    found = profiler.settings(ctx.state)
    db = ctx.db
    old_level, old_filter = found.level(db), found.filters.get(db)
    old_slow, old_rate = found.slow_ms, found.sample_rate
    # A level outside 0..2 (-1 by convention) only reads the settings.
    if 0 <= level <= 2:
        found.levels[db] = int(level)
        if level > 0:
            profiler.create_collection(ctx.state, db)
    if new_filter is not None:
        if new_filter == "unset":
            found.filters.pop(db, None)
        else:
            found.filters[db] = new_filter
    if slow_ms is not None:
        found.slow_ms = int(slow_ms)
    if rate is not None:
        found.sample_rate = float(rate)
    reply: dict[str, Any] = {"was": old_level, "slowms": old_slow, "sampleRate": old_rate}
    if old_filter is not None:
        reply["filter"] = old_filter
    if old_filter is not None or new_filter is not None:
        reply["note"] = _FILTER_NOTE
    if 0 <= level <= 2 or slow_ms is not None or rate is not None or new_filter is not None:
        _log_change(ctx, old_level, old_slow, old_rate, old_filter)
    reply["ok"] = 1.0
    return reply


def _number(body: dict[str, Any], field: str) -> float:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(
            14,
            f"BSON field 'profile.{field}' is the wrong type '{engine.type_name(value)}', "
            f"expected types '[long, int, decimal, double]'",
        )
    return value


def _filter(value: Any) -> dict[str, Any] | str:
    """A match expression, or "unset" [srv:db/commands/profile_common.cpp
    parseObjectOrUnset]; an invalid expression fails as a query's would."""
    if value == "unset":
        return "unset"
    if not isinstance(value, dict):
        raise CommandError(2, "Expected an object, or the string 'unset'.")
    try:
        engine.matches(value, {})
    except engine.EngineError as exc:
        raise CommandError(2, str(exc.args[0]) if exc.args else "bad filter") from None
    return value


def _log_change(
    ctx: OpContext,
    old_level: int,
    old_slow: int,
    old_rate: float,
    old_filter: dict[str, Any] | None,
) -> None:
    """The "Profiler settings changed" line (id 48742) [profile_common.cpp]."""
    found = profiler.settings(ctx.state)
    before: dict[str, Any] = {"level": old_level, "slowms": old_slow, "sampleRate": old_rate}
    if old_filter is not None:
        before["filter"] = old_filter
    after: dict[str, Any] = {
        "level": found.level(ctx.db),
        "slowms": found.slow_ms,
        "sampleRate": found.sample_rate,
    }
    if ctx.db in found.filters:
        after["filter"] = found.filters[ctx.db]
    conn = ctx.connection
    ramlog.logs(ctx.state).global_log.write(
        48742,
        "Profiler settings changed",
        {"from": before, "to": after},
        component="COMMAND",
        ctx=f"conn{conn.id}" if conn is not None else "sandbox",
    )


@command("getLog", admin_only=True)
async def get_log(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The names of the server's logs ("*"), or one log's last lines as JSON strings
    [srv:db/commands/generic_servers.cpp CmdGetLog]."""
    name = body["getLog"]
    if not isinstance(name, str):
        raise CommandError(
            14,
            f"Argument to getLog must be of type String; found {_shown(name)} of type "
            f"{engine.type_name(name)}",
        )
    logs = ramlog.logs(ctx.state)
    if name == "*":
        return {"names": list(ramlog.NAMES), "ok": 1.0}
    log = logs.logs.get(name)
    if log is None:
        # mongod answers this one with an errmsg and no code (errmsgRun returning false).
        return {"ok": 0.0, "errmsg": f"no RamLog named: {name}"}
    return {"totalLinesWritten": log.total_written, "log": list(log.lines), "ok": 1.0}


@command("clearLog", admin_only=True)
async def clear_log(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Empty the "global" log, the only one it clears; a test command [srv:db/commands/
    generic_servers.cpp ClearLogCmd, MONGO_REGISTER_COMMAND(...).testOnly()]."""
    if not ctx.state.parameters.get("enableTestCommands", True):
        raise CommandError(59, "no such command: 'clearLog'")
    name = body["clearLog"]
    if not isinstance(name, str):
        raise CommandError(
            14,
            f"BSON field 'clearLog.clearLog' is the wrong type '{engine.type_name(name)}', "
            "expected type 'string'",
        )
    if name != "global":
        raise CommandError(72, "Only the 'global' log can be cleared")
    ramlog.logs(ctx.state).global_log.clear()
    return {"ok": 1.0}


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, int | float) else engine.type_name(value)

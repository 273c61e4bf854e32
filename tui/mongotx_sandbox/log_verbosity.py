"""The server parameter logComponentVerbosity: the log's verbosity, overall and by component
(`db.setLogLevel` sets it) [manual: reference/parameters logComponentVerbosity,
reference/method/db.setLogLevel; srv:logv2/log_component_settings.h, db/commands/
parameters.cpp LogComponentVerbositySetting, parseLogComponentSettings].

Only its effect on the "Slow query" line is modelled: at verbosity 1 or more for the
COMMAND component every command is logged, whatever its duration (profiler.py).
"""

from __future__ import annotations

from typing import Any

from .errors import CommandError

KEY = "logComponentVerbosity"
# A component whose verbosity was never set inherits its parent's (-1 in getParameter).
UNSET = -1


def current(params: dict[str, Any]) -> dict[str, Any]:
    """The settings as set so far (the default verbosity 0 when never set)."""
    found = params.get(KEY)
    return found if isinstance(found, dict) else {"verbosity": 0}


def set_verbosity(params: dict[str, Any], value: Any) -> dict[str, Any]:
    """Merge `value` ({verbosity: n, <component>: n or {verbosity: n, ...}}) into the
    settings; returns the settings before. Nothing changes when any part is invalid."""
    if not isinstance(value, dict):
        # [srv:db/commands/parameters.cpp LogComponentVerbosityServerParameter::set]
        raise CommandError(14, "log component verbosity is not a BSON object")
    before = current(params)
    params[KEY] = _merged(before, value, "")
    return before


def _merged(old: dict[str, Any], value: dict[str, Any], path: str) -> dict[str, Any]:
    out = dict(old)
    for name, given in value.items():
        dotted = f"{path}.{name}" if path else name
        if name == "verbosity":
            out["verbosity"] = _level(given, path or "default")
        elif isinstance(given, dict):
            child = out.get(name)
            out[name] = _merged(child if isinstance(child, dict) else {}, given, dotted)
        else:
            child = out.get(name)
            kept = child if isinstance(child, dict) else {}
            out[name] = {**kept, "verbosity": _level(given, dotted)}
    return out


def _level(value: Any, component: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(2, f"Expected {component}.verbosity field to be a number")
    return int(value)


def command_level(params: dict[str, Any]) -> int:
    """The COMMAND component's verbosity: its own when set, else the default one."""
    settings = params.get(KEY)
    if not isinstance(settings, dict):
        return 0
    own = settings.get("command")
    level = own.get("verbosity", UNSET) if isinstance(own, dict) else UNSET
    return level if level >= 0 else int(settings.get("verbosity", 0))

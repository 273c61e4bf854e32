"""The `failCommand` fail point (configureFailPoint), as MongoDB's test builds offer it.

Reference §7: evaluated before option validation and session checkout, so an injected
error leaves the transaction exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import CommandError, code_name

if TYPE_CHECKING:
    from .connections import Connection
    from .state import ServerState

NEVER_FAILED = frozenset({"configureFailPoint", "hello", "isMaster", "ismaster"})
# failGetMoreAfterCursorCheckout fails getMore with data.errorCode (used by the change
# stream resume spec tests); it takes the same data as failCommand, for getMore only.
FAIL_POINTS = ("failCommand", "failGetMoreAfterCursorCheckout")


@dataclass
class FailPoint:
    mode: str  # alwaysOn / times / skip
    count: int
    data: dict[str, Any]


@dataclass
class FailAction:
    error_code: int | None = None
    error_labels: list[str] | None = None
    close: bool = False
    block_ms: float = 0
    write_concern_error: dict[str, Any] | None = None
    after_checkout: bool = False  # failGetMoreAfterCursorCheckout


def configure(state: ServerState, name: str, mode: Any, data: Any) -> None:
    if name not in FAIL_POINTS:
        raise CommandError(
            2,
            f"Cannot find fail point '{name}' (the sandbox implements {', '.join(FAIL_POINTS)})",
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CommandError(14, "'data' must be an object")
    if mode == "off":
        state.fail_points.pop(name, None)
        return
    if mode == "alwaysOn":
        fp = FailPoint("alwaysOn", 0, data)
    elif isinstance(mode, dict) and len(mode) == 1 and next(iter(mode)) in ("times", "skip"):
        kind, n = next(iter(mode.items()))
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CommandError(2, f"'{kind}' must be a non-negative integer")
        fp = FailPoint(kind, int(n), data)
        if kind == "times" and n == 0:
            state.fail_points.pop(name, None)
            return
    else:
        raise CommandError(2, "'mode' must be 'alwaysOn', 'off', {times: n} or {skip: n}")
    commands = data.get("failCommands")
    if commands is not None and (
        not isinstance(commands, list) or not all(isinstance(c, str) for c in commands)
    ):
        raise CommandError(2, "'failCommands' must be an array of command names")
    if data.get("blockConnection") and not isinstance(data.get("blockTimeMS"), int | float):
        raise CommandError(2, "'blockTimeMS' is required with 'blockConnection'")
    state.fail_points[name] = fp


def evaluate_fail_command(
    state: ServerState, conn: Connection, name: str, body: dict[str, Any]
) -> FailAction | None:
    if name in NEVER_FAILED:
        return None
    fp_name = "failCommand"
    fp: FailPoint | None = state.fail_points.get(fp_name)
    if name == "getMore" and "failGetMoreAfterCursorCheckout" in state.fail_points:
        fp_name = "failGetMoreAfterCursorCheckout"
        fp = state.fail_points[fp_name]
    if fp is None:
        return None
    data = fp.data
    commands = data.get("failCommands") or []
    if fp_name == "failCommand" and name not in commands:
        return None
    app = data.get("appName")
    if app is not None and conn.app_name != app:
        return None
    namespace = data.get("namespace")
    if namespace is not None:
        coll = body.get(name)
        if not isinstance(coll, str) or f"{body.get('$db')}.{coll}" != namespace:
            return None
    if fp.mode == "skip":
        if fp.count > 0:
            fp.count -= 1
            return None
    elif fp.mode == "times":
        fp.count -= 1
        if fp.count <= 0:
            state.fail_points.pop(fp_name, None)
    action = FailAction(after_checkout=fp_name != "failCommand")
    if data.get("closeConnection"):
        action.close = True
    if data.get("blockConnection"):
        action.block_ms = float(data.get("blockTimeMS") or 0)
    if "errorCode" in data:
        action.error_code = int(data["errorCode"])
    if "errorLabels" in data:
        action.error_labels = list(data["errorLabels"])
    if "writeConcernError" in data:
        wce = dict(data["writeConcernError"])
        if "code" in wce and "codeName" not in wce:
            wce["codeName"] = code_name(int(wce["code"]))
        action.write_concern_error = wce
    return action

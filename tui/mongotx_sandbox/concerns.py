"""Write concern: checking the one a command asks for, and what the deployment answers.

A write concern the deployment cannot satisfy is not a command error: the write happens and
the reply carries `writeConcernError` (100 for a `w` larger than the set, 79 for an unknown
mode; reference §3.10).
"""

from __future__ import annotations

from typing import Any

from . import topology
from .errors import CommandError
from .state import ServerState


def validate_write_concern(wc: Any) -> None:
    """Refuse a malformed `writeConcern` before the command runs."""
    if not isinstance(wc, dict):
        raise CommandError(14, "writeConcern must be an object")
    w = wc.get("w", 1)
    if not isinstance(w, int | str) or isinstance(w, bool):
        raise CommandError(2, "w has to be a number or a string")
    if isinstance(w, int) and w < 0:
        raise CommandError(2, "w cannot be a negative value")


def write_concern_error(state: ServerState, body: dict[str, Any]) -> dict[str, Any] | None:
    """What the deployment answers for the requested write concern (None: satisfied)."""
    wc = body.get("writeConcern")
    if not isinstance(wc, dict):
        return None
    deployment = topology.of(state)
    w = wc.get("w", 1)
    if isinstance(w, int) and w > deployment.data_bearing:
        return {
            "code": 100,
            "codeName": "UnsatisfiableWriteConcern",
            "errmsg": "Not enough data-bearing nodes",
        }
    if isinstance(w, str) and w not in deployment.write_concern_modes:
        return {
            "code": 79,
            "codeName": "UnknownReplWriteConcern",
            "errmsg": f"No write concern mode named '{w}' found in replica set configuration",
        }
    return None


def add_write_concern_error(
    state: ServerState, body: dict[str, Any], reply: dict[str, Any]
) -> None:
    """Put the write concern error, if any, into `reply`."""
    wce = write_concern_error(state, body)
    if wce:
        reply["writeConcernError"] = wce

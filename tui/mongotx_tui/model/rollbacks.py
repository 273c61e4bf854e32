"""Writes a failover rolled back, matched to the lane steps that made them (issue 13).

The server's list of rolled-back writes (the sandbox's `rolledBack`: the member that undid
each, its optime `ts`, `op`, `ns`, `_id`) is matched to the command monitor's records: a
step's write whose reply's `operationTime` is that optime made it (a write's reply carries
its optime as operationTime [spec: causal-consistency, operationTime]; a w:1 write the new
primary never had is rolled back when its member rejoins [manual: "Rollbacks During
Replica Set Failover"]). Nothing is assumed: a step is marked only from the server's list.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .monitor import CommandRecord

# The commands whose reply's operationTime is the optime of the write they made.
WRITES = frozenset(
    {"insert", "update", "delete", "findAndModify", "findandmodify", "bulkWrite"}
    | {"commitTransaction"}
)
KEEP_STEPS = 2_000  # the steps remembered for matching (the oldest go first)


def _time(value: Any) -> tuple[int, int] | None:
    """A Timestamp as (seconds, increment), comparable whatever object carried it."""
    secs, inc = getattr(value, "time", None), getattr(value, "inc", None)
    return (secs, inc) if isinstance(secs, int) and isinstance(inc, int) else None


def _key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry.get("member"), _time(entry.get("ts")), entry.get("ns"), repr(entry.get("_id")))


def describe(entries: list[dict[str, Any]]) -> str:
    """`rolled back on 127.0.0.1:PORT: update bank.accounts _id 'alice'`."""
    members = list(dict.fromkeys(str(e.get("member") or "?") for e in entries))
    writes = [f"{e.get('op', '?')} {e.get('ns', '')} _id {e.get('_id')!r}" for e in entries]
    more = f" and {len(writes) - 3} more" if len(writes) > 3 else ""
    return f"rolled back on {' and '.join(members)}: {'; '.join(writes[:3])}{more}"


@dataclass(frozen=True)
class Marked:
    """A lane's step the server rolled back: which lane and item, and what to say."""

    lane_id: int
    item: Any  # the lane's QueuedOp
    text: str


class RollbackMarks:
    """The steps run on a set of several members (by the monitor's step id), and the
    rolled-back writes already shown."""

    def __init__(self) -> None:
        self._steps: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._seen: set[tuple[Any, ...]] = set()

    def note_step(self, step_id: int, lane_id: int, item: Any) -> None:
        self._steps[step_id] = (lane_id, item)
        while len(self._steps) > KEEP_STEPS:
            self._steps.popitem(last=False)

    def find(
        self, rolled_back: Iterable[dict[str, Any]], records: Iterable[CommandRecord]
    ) -> list[Marked]:
        """The noted steps that made writes of `rolled_back` not shown yet."""
        new: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for entry in rolled_back:
            when = _time(entry.get("ts"))
            if when is not None and isinstance(entry, dict) and _key(entry) not in self._seen:
                new.setdefault(when, []).append(entry)
        if not new:
            return []
        by_step: dict[int, list[dict[str, Any]]] = {}
        for record in records:
            if record.internal or record.name not in WRITES or not record.ok:
                continue
            when = _time((record.reply or {}).get("operationTime"))
            if when in new and record.step_id in self._steps:
                found = by_step.setdefault(record.step_id, [])
                found.extend(e for e in new[when] if e not in found)
        out = []
        for step_id, entries in by_step.items():
            self._seen.update(_key(e) for e in entries)
            lane_id, item = self._steps[step_id]
            out.append(Marked(lane_id, item, describe(entries)))
        return out

"""The timeline of a headless run: one record per step, and how to print it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StepRecord:
    index: int
    session: str
    action: str  # the step's one-line label
    outcome: str = ""
    expected: str = ""
    match: bool = False
    reason: str = ""  # why it does not match
    ms: float | None = None
    blocked: bool = False  # it was still running when the step it waits for began
    error: dict[str, Any] | None = None  # code, codeName, labels
    result: Any = None
    note: str = ""


@dataclass
class RunRecord:
    scenario: str
    title: str
    verdict: str
    server: str = ""  # "sandbox (in this process)" or the masked URI
    database: str = ""  # where it ran (a database of its own on a deployment by URI)
    sandbox: bool = False  # the server says it is a mongotx sandbox (parameters were set)
    notes: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    final: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # the cycles the run's history forms, named (model.anomalies), when it was analysed
    anomalies: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(s.match for s in self.steps)

    def to_json(self) -> str:
        from bson import json_util

        data = asdict(self)
        data["passed"] = self.passed
        data["error"] = None  # what `run --json` fills when the run could not be made
        options = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
        return json_util.dumps(data, json_options=options, indent=2)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(record: RunRecord, width: int = 38) -> str:
    """A plain-text table: #, session, step, outcome, expected, match."""
    head = ("#", "session", "step", "outcome", "expected", "match")
    rows = [head]
    for s in record.steps:
        mark = "ok" if s.match else "MISMATCH"
        outcome = s.outcome + (" (waited)" if s.blocked else "")
        rows.append(
            (
                str(s.index),
                s.session or "-",
                _clip(s.action, width),
                _clip(outcome, width),
                _clip(s.expected, width),
                mark,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    where = f"{record.server}, database {record.database}" if record.database else record.server
    out = [f"{record.title} ({record.scenario}) on {where}", *lines]
    for s in record.steps:
        if not s.match:
            out.append(f"step {s.index}: {s.reason}")
    out.extend(f"note: {n}" for n in record.notes)
    out.extend(f"anomaly: {a}" for a in record.anomalies)
    passed = sum(s.match for s in record.steps)
    out.append(f"{passed}/{len(record.steps)} steps as expected")
    out.append(f"verdict: {record.verdict}")
    return "\n".join(out)

"""Transaction blocks of a scenario: startTransaction ... commit/abort on one session.

The with_transaction export runs each block that the scenario commits as one callback;
blocks the scenario aborts or whose commit fails for good are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Scenario, Step

TRANSIENT = "TransientTransactionError"
UNKNOWN = "UnknownTransactionCommitResult"


@dataclass
class Block:
    session: str
    start: Step
    ops: list[Step] = field(default_factory=list)
    end: Step | None = None

    @property
    def steps(self) -> list[Step]:
        return [self.start, *self.ops, *([self.end] if self.end else [])]

    @property
    def kept(self) -> bool:
        """Committed in the scenario: with_transaction reproduces it."""
        if self.end is None or self.end.action != "commit":
            return False
        err = self.end.expect.error
        if err is not None and UNKNOWN not in err.labels:
            return False
        return not any(s.expect.error and TRANSIENT in s.expect.error.labels for s in self.ops)


def transaction_blocks(scenario: Scenario) -> list[Block]:
    open_: dict[str, Block] = {}
    out: list[Block] = []
    for step in scenario.steps:
        name = step.session or ""
        if step.action == "startTransaction":
            open_[name] = Block(name, step)
            out.append(open_[name])
        elif name in open_ and step.is_op:
            open_[name].ops.append(step)
        elif name in open_ and step.action in ("commit", "abort", "endSession"):
            open_.pop(name).end = step
    return out

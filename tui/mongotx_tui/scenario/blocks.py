"""Transaction blocks of a scenario: startTransaction ... commit/abort on one session.

The with_transaction export runs each block as one callback passed to with_transaction,
with the scenario's retries of a block by hand as the callback's later calls (a chain);
a block that cannot be written that way stays explicit, and the export says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.ops import StepAction
from .definition import Scenario, Step

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
    def transient(self) -> bool:
        """A statement or the commit fails with TransientTransactionError: with_transaction
        would call the callback again."""
        ends = [self.end] if self.end is not None and self.end.action == StepAction.COMMIT else []
        return any(s.expect.error and TRANSIENT in s.expect.error.labels for s in self.ops + ends)

    @property
    def stopped_by_error(self) -> bool:
        """A statement fails: the scenario's abort (if any) only cleans up after it."""
        return any(s.expect.error is not None for s in self.ops)


def transaction_blocks(scenario: Scenario) -> list[Block]:
    open_: dict[str, Block] = {}
    out: list[Block] = []
    for step in scenario.steps:
        name = step.session or ""
        if step.action == StepAction.START_TRANSACTION:
            open_[name] = Block(name, step)
            out.append(open_[name])
        elif name in open_ and step.is_op:
            open_[name].ops.append(step)
        elif name in open_ and step.action in (
            StepAction.COMMIT,
            StepAction.ABORT,
            StepAction.END_SESSION,
        ):
            open_.pop(name).end = step
    return out


@dataclass
class Chain:
    """One with_transaction call: a block, and the scenario's retries of it by hand (the
    same session starting a transaction again right after a transient failure), which are
    the callback's later calls. `threaded`: other steps come between its steps."""

    session: str
    blocks: list[Block]
    threaded: bool = False

    @property
    def steps(self) -> list[Step]:
        return [s for b in self.blocks for s in b.steps]


def unsupported(block: Block, scenario: Scenario) -> str | None:
    """Why the block cannot be a with_transaction callback, or None."""
    if block.end is None:
        return (
            "it is never committed or aborted, and with_transaction always ends the "
            "transaction it starts"
        )
    if block.end.action == StepAction.END_SESSION:
        return (
            f"step {block.end.index} ends the session inside the transaction, and "
            "with_transaction always ends it with a commit or an abort"
        )
    for s in block.steps:
        if s.expect.blocks_until is not None:
            return (
                f"step {s.index} waits until step {s.expect.blocks_until} while the "
                "transaction is open, and a callback's statement that waits would hold the "
                "scenario's later steps back"
            )
    inside = {s.index for s in block.steps}
    for s in scenario.steps[block.start.index : block.end.index - 1]:
        if s.session == block.session and s.index not in inside:
            return f"step {s.index} ({s.action}) runs on the session inside the transaction"
    return None


def plan_chains(scenario: Scenario) -> tuple[list[Chain], list[tuple[Block, str]]]:
    """The with_transaction calls of the export, and the blocks that stay explicit (why)."""
    chains: list[Chain] = []
    explicit: list[tuple[Block, str]] = []
    last: dict[str, Chain] = {}
    for block in transaction_blocks(scenario):
        reason = unsupported(block, scenario)
        if reason is not None:
            explicit.append((block, reason))
            last.pop(block.session, None)
            continue
        prev = last.get(block.session)
        if prev is not None and _retries(prev.blocks[-1], block, scenario):
            prev.blocks.append(block)
        else:
            last[block.session] = Chain(block.session, [block])
            chains.append(last[block.session])
    for chain in chains:
        numbers = {s.index for s in chain.steps}
        chain.threaded = len(numbers) != max(numbers) - min(numbers) + 1
    return chains, explicit


def _retries(before: Block, block: Block, scenario: Scenario) -> bool:
    """`block` retries `before` by hand: it failed transiently, and the session does
    nothing else in between."""
    if not before.transient or before.end is None:
        return False
    between = scenario.steps[before.end.index : block.start.index - 1]
    return all(s.session != block.session for s in between)

"""The body of a with_transaction export: every transaction a callback passed to
session.with_transaction, the other sessions' steps still run between its statements.

A chain (blocks.py) whose steps are interleaved with other steps runs with_transaction on a
thread (sync) or task (async) of its own; the script's Turns keep every step in the
scenario's order (txn_templates.py). A chain without steps between its own runs inline.
Blocks that cannot be a callback stay explicit, and the script says which and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.ops import StepAction
from .blocks import UNKNOWN, Block, Chain, plan_chains
from .codegen import identifier, txn_args
from .definition import Step

if TYPE_CHECKING:
    from .writer import ScriptWriter


def flat(text: str) -> str:
    """Text for a comment line: one line of printable characters, whatever it holds."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())


def explicit_notes(writer: ScriptWriter) -> list[str]:
    """Sentences for the blocks that stay explicit (empty when every block is a callback)."""
    _, explicit = plan_chains(writer.scenario)
    return [_explicit_note(block, reason) for block, reason in explicit]


def _explicit_note(block: Block, reason: str) -> str:
    numbers = ", ".join(str(s.index) for s in block.steps)
    return (
        f"{block.session}'s transaction (steps {numbers}) stays explicit "
        f"(start_transaction ... commit_transaction): {reason}."
    )


class InterleavedBody:
    """Writes play()'s body through the writer's emit/comment/call/expr."""

    def __init__(self, w: ScriptWriter) -> None:
        self.w = w
        self.chains, self.explicit = plan_chains(w.scenario)
        self.owner: dict[int, Chain] = {s.index: c for c in self.chains for s in c.steps}
        self.explicit_steps = {s.index for b, _ in self.explicit for s in b.steps}
        self.ended_by: dict[str, Block] = {}  # session -> its latest with_transaction block
        self.waits: list[str] = []  # threads/tasks to wait for at the end
        self.pool = 0

    def write(self) -> None:
        w, steps = self.w, self.w.scenario.steps
        aw = w.aw
        releases: dict[int, list[Step]] = {}
        for s in steps:
            if s.expect.blocks_until is not None:
                releases.setdefault(s.expect.blocks_until, []).append(s)
        w.emit("# The steps run in the scenario's order whichever thread runs them: see Turns.")
        w.emit("# What the scenario expects of each step, for when with_transaction's own")
        w.emit("# retries make the outcomes differ:")
        w.emit("turns = Turns({")
        for s in steps:
            if s.action != StepAction.SLEEP:
                w.emit(f"{s.index}: {w.lit(s.expect.describe())},", 1)
        w.emit("})")
        for block, reason in self.explicit:
            w.emit(f"report({w.lit('note: ' + _explicit_note(block, reason))})")
        w.emit()
        for s in steps:
            chain = self.owner.get(s.index)
            if chain is not None:
                if s is chain.blocks[0].start:
                    self.chain(chain)
                for b in chain.blocks:
                    self.ended_by[chain.session] = b
            elif (
                s.action in (StepAction.COMMIT, StepAction.ABORT)
                and s.session in self.ended_by
                and s.index not in self.explicit_steps
            ):
                self.after_with_transaction(s, self.ended_by[s.session])
            else:
                if s.action == StepAction.START_TRANSACTION:
                    self.ended_by.pop(s.session or "", None)
                self.main_step(s)
            for waiting in releases.get(s.index, []):
                if waiting.action == StepAction.SLEEP:
                    continue
                w.emit(f"{aw}turns.wait_after({s.index})")
                w.await_released(waiting, s)
        if self.waits:
            worker = "tasks" if w.aio else "threads"
            w.emit(f"# Wait for the transactions' {worker}: their errors are raised here.")
            for var in self.waits:
                w.emit(f"await {var}" if w.aio else f"{var}.result()")
        if self.pool:
            w.uses_pool = True
            w.pool_workers = self.pool

    # -- steps on the main line -----------------------------------------------------------
    def main_step(self, s: Step) -> None:
        w, aw = self.w, self.w.aw
        w.comment(s)
        if s.action == StepAction.SLEEP:
            w.uses_time = not w.aio
            sleep = "await asyncio.sleep" if w.aio else "time.sleep"
            w.emit(f"{aw}turns.wait({s.index})")
            w.emit(f'report("step {s.index} - sleep {s.seconds:g}s")')
            w.emit(f"{sleep}({s.seconds:g})")
            w.emit(f"{aw}turns.done({s.index})")
            w.emit()
            return
        blocked = s.expect.blocks_until is not None
        if s.action == StepAction.WITH_TRANSACTION or blocked:
            w.emit(f"{aw}turns.wait({s.index})")
            if s.action == StepAction.WITH_TRANSACTION:
                w.with_transaction(s, blocked)
            else:
                w.finish_call(s, w.call(s, w.expr(s)), blocked)
            if blocked and not w.aio:
                self.pool += 1
            w.lines.pop()  # the blank line after the call
            w.emit(f"{aw}turns.done({s.index})")
            w.emit()
            return
        call = w.call(s, w.expr(s))
        w.emit(f"{aw}turns.take({call[len('step(') :]}")
        w.emit()

    def after_with_transaction(self, s: Step, block: Block) -> None:
        """A commit or abort on a session whose transaction with_transaction has ended."""
        w, aw = self.w, self.w.aw
        w.comment(s)
        err = block.end.expect.error if block.end is not None else None
        if s.action == StepAction.COMMIT and err is not None and UNKNOWN in err.labels:
            text = (
                f"ok: with_transaction already sent commitTransaction again right after step "
                f"{block.end.index if block.end else '?'}, as it does after "
                "UnknownTransactionCommitResult (the scenario does it here, later)"
            )
        else:
            text = f"not run: with_transaction has already ended {s.session}'s transaction"
        w.emit(f"{aw}turns.wait({s.index})")
        w.emit(
            f"report({w.lit(f'step {s.index} {s.session} {s.action}' + chr(10) + '    -> ' + text)})"
        )
        w.emit(f"{aw}turns.done({s.index})")
        w.emit()

    # -- one with_transaction call ---------------------------------------------------------
    def chain(self, chain: Chain) -> None:
        w, aw = self.w, self.w.aw
        var = w.names.session(chain.session)
        txn = identifier(f"{var}_txn", w.names.taken)
        callback = identifier(f"{var}_callback", w.names.taken)
        first = chain.blocks[0]
        numbers = ", ".join(str(s.index) for s in first.steps)
        who = flat(chain.session)
        w.emit(f"# Steps {numbers}: {who}'s transaction, run by with_transaction, which calls")
        w.emit("# the callback again after a TransientTransactionError.")
        for b in chain.blocks[1:]:
            again = ", ".join(str(s.index) for s in b.steps)
            w.emit(f"# The scenario retries it by hand at steps {again}: with_transaction does")
            w.emit("# that itself, so its next call of the callback follows those steps (with")
            w.emit("# the scenario's values; a real callback computes them from what it reads).")
        if chain.threaded:
            w.emit("# Other sessions' steps come between its steps, so it runs on a")
            w.emit(f"# {'task' if w.aio else 'thread'} of its own, in the scenario's turns.")
        plan = [[(s.index, s.label()) for s in b.steps] for b in chain.blocks]
        w.emit(f"{txn} = Transaction({w.lit(chain.session)}, {var}, turns, [")
        for attempt in plan:
            w.emit(f"[{', '.join(f'({n}, {w.lit(label)})' for n, label in attempt)}],", 1)
        w.emit("])")
        w.emit()
        kw = "async def" if w.aio else "def"
        w.emit(f"{kw} {callback}(session: Any) -> None:")
        w.emit('"""The statements of the scenario\'s attempt that this call follows."""', 1)
        several = len(chain.blocks) > 1
        if several:
            w.emit(f"attempt = {aw}{txn}.next_attempt()", 1)
        else:
            w.emit(f"{aw}{txn}.next_attempt()", 1)
        for i, b in enumerate(chain.blocks, 1):
            depth = 1
            if several:
                w.emit(
                    f"{'if' if i == 1 else 'elif' if i < len(chain.blocks) else 'else'}"
                    f"{f' attempt == {i}' if i < len(chain.blocks) else ''}:",
                    1,
                )
                depth = 2
            for s in b.ops:
                w.comment(s, depth)
                expr = w.expr(s, "session")
                w.emit(f"{aw}{txn}.statement({s.index}, lambda: {expr})", depth)
            end = b.end
            assert end is not None
            if end.action == StepAction.ABORT and not b.stopped_by_error:
                w.comment(end, depth)
                w.emit(f"{aw}{txn}.abort({end.index}, lambda: session.abort_transaction())", depth)
            elif end.action == StepAction.ABORT:
                note = f"step {end.index} aborts after the error: with_transaction does that"
                w.emit(f"{aw}{txn}.end()  # {note}", depth)
            else:
                w.emit(f"{aw}{txn}.end()  # with_transaction commits (step {end.index})", depth)
        w.emit()
        opts = first.start.txn or w.scenario.session(chain.session).txn
        args = ", ".join(filter(None, [callback, txn_args(opts)]))
        if chain.threaded:
            if w.aio:
                task = identifier(f"{var}_task", w.names.taken)
                w.emit(f"{task} = asyncio.create_task({txn}.run({args}))")
            else:
                task = identifier(f"{var}_thread", w.names.taken)
                w.emit(f"{task} = pool.submit({txn}.run, {args})")
                self.pool += 1
            self.waits.append(task)
        else:
            w.emit(f"{aw}{txn}.run({args})")
        w.emit()

"""The writer of an exported script's body: one step's comment, call and expectation."""

from __future__ import annotations

import textwrap

from ..model.faults import configure_command
from ..model.ops import StepAction
from .codegen import Names, op_expr, txn_args
from .definition import Scenario, Step
from .pyliteral import PyLiteral, oneline, pystr

# Names the with_transaction export defines in the script: no session variable takes them.
RESERVED = ("turns", "threading", "monitoring", "timed")

INDENT = " " * 8  # inside play()'s session block


class ScriptWriter:
    """Writes the body of an exported script's play(), one step at a time."""

    def __init__(self, scenario: Scenario, aio: bool, with_txn: bool) -> None:
        self.scenario = scenario
        self.aio = aio
        self.with_txn = with_txn
        self.aw = "await " if aio else ""
        self.names = Names()
        self.lit = PyLiteral()
        self.lines: list[str] = []
        self.uses_pool = False
        self.pool_workers = 0  # ThreadPoolExecutor's size; 0: its default
        self.uses_time = False
        self.interleaved = False  # with_transaction calls on threads/tasks, in Turns
        self.uses_recovery = False  # a recoverCommit step: the script's recover_commit()
        if with_txn:
            self.names.taken.update(RESERVED)

    def emit(self, text: str = "", depth: int = 0) -> None:
        self.lines.append((INDENT + "    " * depth + text) if text else "")

    def comment(self, step: Step, depth: int = 0) -> None:
        who = f"{step.session}: " if step.session else ""
        self.emit(oneline(f"# {step.index}. {who}{step.label()}"), depth)
        for line in textwrap.wrap(oneline(step.note), 80):
            self.emit(f"#    {line}", depth)
        self.emit(oneline(f"#    expected: {step.expect.describe()}"), depth)

    def call(
        self,
        step: Step,
        expr: str,
        number: str | None = None,
        strict: bool = False,
        what: str | None = None,
    ) -> str:
        """`step(n, who, what, lambda: expr)`: who and what are str literals."""
        who = pystr(step.session or "-")
        what = pystr(step.label() if what is None else what)
        tail = ", strict=True" if strict else ""
        return f"step({number or step.index}, {who}, {what}, lambda: {expr}{tail})"

    def session_var(self, step: Step) -> str:
        return self.names.session(step.session or "")

    def own_db(self, step: Step) -> str:
        """The database on the step's session's own client ("" for the script's client)."""
        name = step.session or ""
        known = any(s.name == name for s in self.scenario.sessions)
        if not known or not self.scenario.session(name).options.client_args():
            return ""
        return f"{self.names.client(name)}[database]"

    # -- one step -------------------------------------------------------------------------
    def expr(self, step: Step, session: str | None = None) -> str:
        if step.action == StepAction.FAIL_POINT:
            cmd = configure_command(step.failpoint)
            return f"client.admin.command({self.lit(cmd)})"
        s = session or self.session_var(step)
        if step.spec is not None:
            return op_expr(step.spec, s, self.names, self.lit, self.aio, self.own_db(step))
        if step.action == StepAction.START_TRANSACTION:
            opts = step.txn or self.scenario.session(step.session or "").txn
            return f"{s}.start_transaction({txn_args(opts)})"
        if step.action == StepAction.COMMIT:
            return f"{s}.commit_transaction()"
        if step.action == StepAction.ABORT:
            return f"{s}.abort_transaction()"
        if step.action == StepAction.END_SESSION:
            return f"{s}.end_session()"
        if step.action == StepAction.RECOVER_COMMIT:
            self.uses_recovery = True
            self.lit.imports.update(
                {"from bson import Int64", "from bson import decode", "from bson import encode"}
            )
            self.lit.imports.update({"import socket", "import struct"})
            if self.aio:  # a blocking socket: on a thread, so other steps go on meanwhile
                return f"asyncio.to_thread(recover_commit, client, {s})"
            return f"recover_commit(client, {s})"
        raise ValueError(step.action)

    def step(self, step: Step, blocked: bool = False) -> None:
        self.comment(step)
        if step.action == StepAction.SLEEP:
            self.uses_time = not self.aio
            sleep = "await asyncio.sleep" if self.aio else "time.sleep"
            self.emit(f'report("step {step.index} - sleep {step.seconds:g}s")')
            self.emit(f"{sleep}({step.seconds:g})")
            self.emit()
            return
        if step.action == StepAction.WITH_TRANSACTION:
            self.with_transaction(step, blocked)
            return
        call = self.call(step, self.expr(step))
        self.finish_call(step, call, blocked)

    def finish_call(self, step: Step, call: str, blocked: bool) -> None:
        if blocked:
            var = f"blocked_{step.index}"
            if self.aio:
                self.emit(f"{var} = asyncio.create_task({call})")
                self.emit("await asyncio.sleep(0.3)  # let it reach the server and wait there")
            else:
                self.uses_pool = self.uses_time = True
                self.emit(f"{var} = pool.submit({call[len('step(') :].join(['step, ', ''])[:-1]})")
                self.emit("time.sleep(0.3)  # let it reach the server and wait there")
        else:
            self.emit(f"{self.aw}{call}")
        self.emit()

    def callback(self, name: str, steps: list[Step], number: int | None = None) -> None:
        """A with_transaction callback running `steps` on its `session` argument."""
        kw = "async def" if self.aio else "def"
        self.emit(f"{kw} {name}(session: Any) -> None:")
        if number is not None:
            self.emit(f"attempts_{number}.append(1)", 1)
        for i, s in enumerate(steps, 1):
            label = pystr(f"{number}.{i}") if number is not None else None
            call = self.call(s, self.expr(s, "session"), label, strict=True)
            self.emit(f"{self.aw}{call}", 1)
        self.emit()

    def await_released(self, waiting: Step, by: Step) -> None:
        """The blocked step `waiting` finishes once step `by` has run: collect its result."""
        get = f"await blocked_{waiting.index}" if self.aio else f"blocked_{waiting.index}.result()"
        self.emit(f"{get}  # step {waiting.index} finishes once step {by.index} has run")
        self.emit()

    def with_transaction(self, step: Step, blocked: bool) -> None:
        n = step.index
        self.emit(f"attempts_{n}: list[int] = []")
        self.emit()
        ops = [
            Step(index=n, line=0, action=o.kind.value, session=step.session, spec=o)
            for o in step.ops
        ]
        self.callback(f"callback_{n}", ops, n)
        opts = step.txn or self.scenario.session(step.session or "").txn
        args = ", ".join(filter(None, [f"callback_{n}", txn_args(opts)]))
        call = self.call(step, f"{self.session_var(step)}.with_transaction({args})")
        self.finish_call(step, call, blocked)
        self.emit(f'report(f"    the callback ran {{len(attempts_{n})}} time(s)")')
        self.emit()

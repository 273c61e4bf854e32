"""The fixed parts of a with_transaction export whose transactions interleave: the turns
that keep the scenario's order across threads (sync) or tasks (async), one transaction run
by with_transaction, and the listener that shows what with_transaction does not return.
`$`-placeholders are filled by `runtime()`: they differ between the sync and async variants."""

from __future__ import annotations

from string import Template

RUNTIME = '''

# -- with_transaction, interleaved ------------------------------------------------------
# A transaction that other sessions' steps interleave with cannot be one plain call: the
# callback passed to with_transaction runs all its statements before with_transaction
# returns. So such a transaction runs with_transaction on a $worker of its own, and Turns
# keeps every step, whichever $worker runs it, in the scenario's order: a step waits for its
# number to come up, runs, and hands the turn to the next number. The other way, running
# the other sessions' steps from inside the callback, breaks as soon as two transactions
# overlap without nesting (T1 starts, T2 starts, T1 commits, T2 commits) and when
# with_transaction calls the callback a second time.

TURN_WAIT = 60  # seconds a step waits for its turn before the script reports it stuck
$timed

class Stuck(Exception):
    """A step never got its turn: a step before it did not finish."""


class GiveUp(Exception):
    """Raised in a callback to stop with_transaction's own retries (see Transaction)."""


class Turns:
    """The scenario's order of steps, kept across ${worker}s. `expected`: what the scenario
    expects of each step, printed next to the outcome once with_transaction's own retry
    has made outcomes differ from the scenario's."""

    def __init__(self, expected: dict[int, str]) -> None:
        self.current = 1  # the number of the step that may run now
        self.changed = $condition
        self.expected = expected
        self.differs = False  # with_transaction has retried past the scenario

    def compare(self, number: int) -> None:
        if self.differs and number in self.expected:
            report(f"    the scenario expects: {self.expected[number]}")

    $def wait(self, number: int) -> None:
        """Until step `number` may run (at once if it already may)."""
        $with self.changed:
            if not $until_turn:
                raise Stuck(f"step {number} waited {TURN_WAIT} s after step {self.current - 1}")

    $def wait_after(self, number: int) -> None:
        """Until step `number` has run."""
        $with self.changed:
            if not $until_past:
                raise Stuck(f"step {number} did not finish in {TURN_WAIT} s")

    $def done(self, number: int) -> None:
        """Step `number` has run: the next one may."""
        $with self.changed:
            self.current = number + 1
            self.changed.notify_all()

    $def take(self, number: int, who: str, what: str, action: Callable[[], Any]) -> Any:
        """Run one step with step() in its turn."""
        ${aw}self.wait(number)
        try:
            return ${aw}step(number, who, what, action)
        finally:
            self.compare(number)
            ${aw}self.done(number)


def reply_error(reply: dict[str, Any]) -> str:
    """An error reply of the server (or its write concern error) as describe_error words it."""
    wce = reply.get("writeConcernError") or {}
    code = reply.get("code", wce.get("code"))
    name = reply.get("codeName") or wce.get("codeName") or ""
    labels = [label for label in reply.get("errorLabels", []) if label in LABELS]
    text = " ".join(str(part) for part in ("error", code, name) if part not in (None, ""))
    if wce and "code" not in reply:
        text += " (write concern error)"
    return text + (f" [{', '.join(labels)}]" if labels else "")


class CommitReplies(monitoring.CommandListener):
    """The commitTransaction replies that were errors, by session. with_transaction handles
    them itself (it sends the commit again, or calls the callback again) and tells its
    caller nothing, so the script reads them from the driver's command monitoring."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[int, Any] = {}  # request id -> lsid
        self.errors: list[tuple[Any, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "commitTransaction":
            with self.lock:
                self.sent[event.request_id] = event.command.get("lsid")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        with self.lock:
            lsid = self.sent.pop(event.request_id, None)
            if lsid is not None and "writeConcernError" in event.reply:
                self.errors.append((lsid, dict(event.reply)))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        with self.lock:
            lsid = self.sent.pop(event.request_id, None)
            if lsid is not None:
                self.errors.append((lsid, dict(event.failure)))

    def take(self, session: Any) -> list[dict[str, Any]]:
        """The error replies to `session`'s commits since the last call."""
        with self.lock:
            mine = [reply for lsid, reply in self.errors if lsid == session.session_id]
            self.errors = [(k, r) for k, r in self.errors if k != session.session_id]
        return mine


COMMITS = CommitReplies()  # given to the client: event_listeners=[COMMITS]


class Transaction:
    """One session's transaction, run by with_transaction, step by step in the scenario's
    turns.

    `plan` lists the scenario's attempts at this transaction, each as its steps (number,
    label): startTransaction first, commit or abort last. with_transaction calls the
    callback again after a TransientTransactionError (from a statement or from the commit);
    its n-th call follows the plan's n-th attempt. A call past the plan is with_transaction's
    own retry, which the scenario does not have: it runs the last attempt's statements again
    in the turn of that attempt's last step, and the script says that outcomes may differ
    from the scenario's from there on. (with_transaction retries at once, and a retry made
    while the other transaction still holds the document conflicts again, for up to 120 s;
    holding it to that turn makes the output the same on every run, and the script stops
    with_transaction after one such retry has failed, and says so.)"""

    def __init__(self, who: str, session: Any, turns: Turns, plan: list[list[tuple[int, str]]]) -> None:
        self.who = who
        self.session = session
        self.turns = turns
        self.plan = plan
        self.labels = {number: what for attempt in plan for number, what in attempt}
        self.calls = 0  # how many times with_transaction has called the callback
        self.taken: set[int] = set()  # the steps that have had their turn
        self.error_at: int | None = None  # the step whose error ended the latest call
        self.ended = False  # the latest call returned: with_transaction commits next
        self.aborted = False  # the callback aborted the transaction itself

    @property
    def extra(self) -> bool:
        """This call is with_transaction's own retry, past the scenario's attempts."""
        return self.calls > len(self.plan)

    def attempt(self) -> list[tuple[int, str]]:
        """The plan's attempt that the latest call follows."""
        return self.plan[min(self.calls, len(self.plan)) - 1]

    $def run(self, callback: Callable[[Any], Any], **options: Any) -> None:
        """Start with_transaction in the turn of the first startTransaction; report how it
        ended in the turn of the last step of the attempt it ended in."""
        first = self.plan[0][0][0]
        ${aw}self.turns.wait(first)
        report(f"step {first} {self.who} startTransaction\\n    -> ok: with_transaction calls the callback")
        self.taken.add(first)
        ${aw}self.turns.done(first)
        failure: BaseException | None = None
        try:
            ${aw}self.session.with_transaction(callback, **options)
        except (PyMongoError, GiveUp) as exc:
            failure = exc
        ${aw}self.finish(failure)

    $def next_attempt(self) -> int:
        """The callback's first line: hands on the turns the previous call left (its steps
        after an error, the end of its attempt) and returns which of the plan's attempts this
        call follows (1, 2, ...)."""
        self.calls += 1
        if self.calls > 1:
            ${aw}self.close_previous()
        self.error_at, self.ended = None, False
        if not self.extra:
            number = self.attempt()[0][0]
            if self.calls > 1:
                ${aw}self.turns.wait(number)
                report(
                    f"step {number} {self.who} startTransaction\\n    -> ok: with_transaction "
                    f"calls the callback again (attempt {self.calls}) after a TransientTransactionError"
                )
                self.taken.add(number)
                ${aw}self.turns.done(number)
            return self.calls
        if self.calls > len(self.plan) + 1:
            report(f"    {self.who}: with_transaction's own retry failed too; the script stops it here")
            raise GiveUp(f"attempt {self.calls - 1}, with_transaction's own retry, failed")
        numbers = ", ".join(str(n) for n, _ in self.attempt()[1:-1]) or "none"
        report(
            f"    {self.who}: with_transaction calls the callback again (attempt {self.calls}), "
            f"which the scenario does not do: it runs the statements of steps {numbers} again, "
            f"in step {self.attempt()[-1][0]}'s turn. From here on, outcomes and data may "
            "differ from the scenario's."
        )
        self.turns.differs = True
        return len(self.plan)

    $def statement(self, number: int, action: Callable[[], Any]) -> Any:
        """Run the attempt's step `number` in its turn (at once in with_transaction's own
        retry); an error stops the callback and goes to with_transaction."""
        what = self.labels[number]
        if self.extra:
            end = self.attempt()[-1][0]
            what = f"attempt {self.calls}: {what}"
            try:
                return ${aw}step(end, self.who, what, action, strict=True)
            except PyMongoError:
                self.error_at = number
                raise
        ${aw}self.turns.wait(number)
        self.taken.add(number)
        try:
            return ${aw}step(number, self.who, what, action, strict=True)
        except PyMongoError:
            self.error_at = number
            raise
        finally:
            self.turns.compare(number)
            ${aw}self.turns.done(number)

    $def end(self) -> None:
        """The callback's last line: wait for the step where the scenario commits; returning
        lets with_transaction commit."""
        if not self.extra:
            ${aw}self.turns.wait(self.attempt()[-1][0])
        self.ended = True

    $def abort(self, number: int, action: Callable[[], Any]) -> None:
        """The scenario aborts here: the callback aborts the transaction itself, and
        with_transaction then returns without committing."""
        ${aw}self.turns.wait(number)
        self.taken.add(number)
        ${aw}step(number, self.who, "abort (in the callback)", action, strict=True)
        self.aborted = True

    $def skip(self, steps: list[tuple[int, str]], why: str) -> None:
        """Hand on the turns of steps that this run of the transaction does not reach."""
        for number, what in steps:
            if number not in self.taken:
                ${aw}self.turns.wait(number)
                report(f"step {number} {self.who} {what}\\n    -> not run: {why}")
                self.taken.add(number)
                ${aw}self.turns.done(number)

    def commit_errors(self, end: int, then: str) -> None:
        for reply in COMMITS.take(self.session):
            report(f"step {end} {self.who} commit (by with_transaction)\\n    -> {reply_error(reply)}{then}")

    $def close_previous(self) -> None:
        """The previous call ended (an error from a statement or from the commit)."""
        previous = self.plan[min(self.calls - 1, len(self.plan)) - 1]
        end, what = previous[-1]
        why = f"attempt {self.calls - 1} stopped at step {self.error_at}'s error"
        ${aw}self.skip(previous[1:-1], why)
        ${aw}self.turns.wait(end)
        if self.ended:
            self.commit_errors(end, ": with_transaction calls the callback again")
        elif self.calls - 1 <= len(self.plan) and what == "abort":
            report(
                f"step {end} {self.who} abort\\n    -> ok: with_transaction aborted the "
                f"transaction right after step {self.error_at}'s error"
            )
        elif self.calls - 1 <= len(self.plan):
            report(
                f"step {end} {self.who} commit\\n    -> not run: with_transaction aborted the "
                f"transaction after step {self.error_at}'s error, and calls the callback again"
            )
        self.taken.add(end)
        if self.calls <= len(self.plan):
            ${aw}self.turns.done(end)

    $def finish(self, failure: BaseException | None) -> None:
        """with_transaction returned or raised: report it in the turn of the attempt's end."""
        attempt = self.attempt()
        end, what = attempt[-1]
        why = f"the callback stopped at step {self.error_at}'s error"
        ${aw}self.skip(attempt[1:-1], why)
        ${aw}self.turns.wait(end)
        if failure is None:
            # Only a commit error labelled UnknownTransactionCommitResult (by pymongo, not in
            # the reply) is followed by a commit that succeeds in the same call.
            again = " [UnknownTransactionCommitResult]: with_transaction sends commitTransaction again"
            self.commit_errors(end, again)
            if self.aborted:
                report(f"    {self.who}: with_transaction returned without committing: the callback aborted")
            else:
                report(
                    f"step {end} {self.who} commit (by with_transaction)\\n    -> ok: "
                    f"committed, the callback ran {self.calls} time(s)"
                )
        else:
            self.commit_errors(end, "")
            text = describe_error(failure) if isinstance(failure, PyMongoError) else f"gave up: {failure}"
            if self.error_at is not None and not self.extra:
                ending = "ok" if what == "abort" else "not run"
                report(
                    f"step {end} {self.who} {what}\\n    -> {ending}: with_transaction aborted the "
                    f"transaction when the callback raised step {self.error_at}'s error, and "
                    f"raised it: {text}"
                )
            else:
                report(f"step {end} {self.who} {what} (by with_transaction)\\n    -> {text}")
        self.taken.add(end)
        ${aw}self.turns.done(end)
        for later in self.plan[min(self.calls, len(self.plan)) :]:
            ${aw}self.skip(later, f"with_transaction ended this transaction at step {end}")
'''

SYNC = {
    "def": "def",
    "aw": "",
    "with": "with",
    "worker": "thread",
    "condition": "threading.Condition()",
    "until_turn": "self.changed.wait_for(lambda: self.current == number, TURN_WAIT)",
    "until_past": "self.changed.wait_for(lambda: self.current > number, TURN_WAIT)",
    "timed": "",
}
ASYNC = {
    "def": "async def",
    "aw": "await ",
    "with": "async with",
    "worker": "task",
    "condition": "asyncio.Condition()",
    "until_turn": "await timed(self.changed.wait_for(lambda: self.current == number))",
    "until_past": "await timed(self.changed.wait_for(lambda: self.current > number))",
    "timed": """

async def timed(waiting: Any) -> bool:
    \"\"\"asyncio's Condition.wait_for with TURN_WAIT as its time limit: False on time-out.\"\"\"
    try:
        return bool(await asyncio.wait_for(waiting, TURN_WAIT))
    except TimeoutError:
        return False
""",
}


def runtime(aio: bool) -> str:
    """The runtime of an interleaved with_transaction export, sync or async."""
    return Template(RUNTIME).substitute(ASYNC if aio else SYNC)

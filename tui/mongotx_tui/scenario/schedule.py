"""The order of a scenario's steps, once for every player (the workbench and headless runs):
which blocked steps a step releases, and how an outcome is judged against the timing the
scenario expects. No IO.

A step with `blocks_until: N` is started, given SETTLE_S to reach the server, and left
running; the steps after it go on. Step N is the one that should release it: once N has
finished, the blocked step must finish too, and must not have finished before N started.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..model.error_info import ErrorInfo
from .definition import Scenario, Step
from .matching import check

SETTLE_S = 0.3  # a step that should block is given this long to reach the server
STUCK_S = 10.0  # a step that has not finished by then is reported as stuck


class Schedule:
    """The steps of one scenario by index, and the blocked ones each step releases."""

    def __init__(self, scenario: Scenario) -> None:
        self.steps = {s.index: s for s in scenario.steps}

    def released_by(self, index: int, running: Iterable[int]) -> list[int]:
        """Of the `running` blocked steps, those that step `index` should release."""
        return [i for i in running if self.steps[i].expect.blocks_until == index]


def timing_problem(step: Step, *, blocked: bool, overlapped: bool = False) -> str:
    """What is wrong with when the step finished ('' when nothing): a `blocks_until` step
    that had already finished when its releasing step began, or a step expected to finish
    at once that let another step run before it finished (it blocked)."""
    until = step.expect.blocks_until
    if until is not None and not blocked:
        return f"finished before step {until}; expected it to wait for it"
    if until is None and overlapped:
        return "it blocked; the scenario expects it to finish at once"
    return ""


def judge(
    step: Step, error: ErrorInfo | None, result: Any, *, blocked: bool, overlapped: bool
) -> str:
    """'' when the outcome is what the step expects, else why not: the outcome first, then
    its timing."""
    reason = check(step.expect, error, result)
    return reason or timing_problem(step, blocked=blocked, overlapped=overlapped)


def mismatch_text(step: Step, outcome: str, reason: str) -> str:
    """What the user reads on a mismatch: `expected error 112 WriteConflict, got ok`."""
    if "block" in reason or "wait" in reason or "finished before" in reason:
        return reason
    expected = step.expect.describe()
    if step.expect.blocks_until is not None:
        expected = expected.split(", then ", 1)[-1]
    return f"expected {expected}, got {outcome}"

"""An Input validator built from a function that says what is wrong with a value."""

from __future__ import annotations

from collections.abc import Callable

from textual.validation import ValidationResult, Validator


class Problem(Validator):
    """Valid when `problem(value)` is None; else its text is the failure description.
    The Input then keeps its own -invalid / -valid classes right."""

    def __init__(self, problem: Callable[[str], str | None]) -> None:
        super().__init__()
        self.problem = problem

    def validate(self, value: str) -> ValidationResult:
        problem = self.problem(value)
        return self.failure(problem) if problem else self.success()

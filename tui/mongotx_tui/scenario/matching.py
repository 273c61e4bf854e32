"""Compare what a step did with what the scenario expects."""

from __future__ import annotations

from typing import Any

from ..model.error_info import ErrorInfo
from .definition import ErrorExpect, Expectation


def normalize(result: Any) -> Any:
    """A step's result (plain documents: backend.operations.plain) without the reply's
    gossip fields, which no expectation can name."""
    if isinstance(result, dict):
        return {k: normalize(v) for k, v in result.items() if k not in _NOISE}
    if isinstance(result, list | tuple):
        return [normalize(v) for v in result]
    return result


_NOISE = {"$clusterTime", "operationTime"}


def subset(expected: Any, actual: Any) -> bool:
    """Mappings: every expected key matches (extra keys allowed); lists: same length, each
    item matches; numbers compare by value (1 == 1.0 == Int64(1))."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(expected) == len(actual)
            and all(subset(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or (expected == actual and type(expected) is type(actual))
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    return bool(expected == actual)


def error_problem(expected: ErrorExpect, got: ErrorInfo) -> str:
    """'' when the error matches, else what differs."""
    if expected.code is not None and expected.code != got.code:
        return f"code {got.code}, expected {expected.code}"
    if expected.code_name and expected.code_name != got.code_name:
        return f"codeName {got.code_name}, expected {expected.code_name}"
    missing = [label for label in expected.labels if label not in got.labels]
    if missing:
        return f"missing label {', '.join(missing)}"
    extra = [label for label in expected.labels_omit if label in got.labels]
    if extra:
        return f"unexpected label {', '.join(extra)}"
    return ""


def check(expect: Expectation, error: ErrorInfo | None, result: Any) -> str:
    """'' when the outcome meets the expectation, else the reason it does not."""
    if expect.error is not None:
        if error is None:
            return f"succeeded, expected {expect.error.describe()}"
        return error_problem(expect.error, error)
    if error is not None:
        return f"failed with {error.one_line()}, expected success"
    if expect.has_result and not subset(expect.result, normalize(result)):
        return "result differs"
    return ""

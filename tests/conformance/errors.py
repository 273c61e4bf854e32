"""Check an operation's error against `expectError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import (
    BulkWriteError,
    ClientBulkWriteException,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
)

from .matching import Matcher, MatchError
from .requirements import Unsupported
from .results import bulk_from_raw, client_bulk


def _server_parts(exc: BaseException) -> list[Mapping[str, Any]]:
    """Every server error document inside `exc` (top level, write errors, write concern errors)."""
    if isinstance(exc, ClientBulkWriteException):
        parts: list[Mapping[str, Any]] = []
        if exc.error is not None:
            parts += _server_parts(exc.error)
        parts += list(exc.write_errors or []) + list(exc.write_concern_errors or [])
        return parts
    if isinstance(exc, BulkWriteError):
        details = exc.details or {}
        return [details, *details.get("writeErrors", []), *details.get("writeConcernErrors", [])]
    if isinstance(exc, OperationFailure):
        details = exc.details or {}
        wce = details.get("writeConcernError")
        return [details, {"code": exc.code}] + ([wce] if wce else [])
    return []


def describe_error(exc: BaseException) -> str:
    """A short one-line account of an operation's error."""
    if isinstance(exc, ClientBulkWriteException) and exc.error is not None:
        return f"{type(exc).__name__} wrapping " + describe_error(exc.error)
    if isinstance(exc, OperationFailure):
        details = exc.details or {}
        first = (details.get("writeErrors") or [details])[0]
        return (
            f"{type(exc).__name__} {first.get('code', exc.code)} "
            f"{first.get('codeName', '')}: {str(first.get('errmsg', exc))[:160]}"
        ).replace("  ", " ")
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


def is_client_error(exc: BaseException) -> bool:
    """Raised by the driver itself (validation, network), not derived from a server reply."""
    if isinstance(exc, ClientBulkWriteException):
        return exc.error is not None and is_client_error(exc.error) and not exc.write_errors
    return not isinstance(exc, OperationFailure | WriteConcernError)


def _message(exc: BaseException) -> str:
    texts = [str(exc)] + [str(p.get("errmsg", "")) for p in _server_parts(exc)]
    return "\n".join(texts).lower()


def _has_label(exc: BaseException, label: str) -> bool:
    if isinstance(exc, ClientBulkWriteException) and exc.error is not None:
        if _has_label(exc.error, label):
            return True
    return isinstance(exc, PyMongoError) and exc.has_error_label(label)


def check_error(matcher: Matcher, expected: Mapping[str, Any], exc: BaseException) -> None:
    """Raise `MatchError` unless `exc` satisfies every assertion in `expected`."""
    label = describe_error(exc)
    for key, want in expected.items():
        if key == "isError":
            continue
        if key == "isClientError":
            if is_client_error(exc) != want:
                raise MatchError(f"expected isClientError={want}, got {label}")
        elif key == "isTimeoutError":
            if bool(getattr(exc, "timeout", False)) != want:
                raise MatchError(f"expected isTimeoutError={want}, got {label}")
        elif key == "errorContains":
            if want.lower() not in _message(exc):
                raise MatchError(f"expected error containing {want!r}, got {label}")
        elif key == "errorCode":
            codes = [p.get("code") for p in _server_parts(exc)]
            if want not in codes:
                raise MatchError(f"expected errorCode {want}, got codes {codes} ({label})")
        elif key == "errorCodeName":
            names = [str(p.get("codeName", "")).lower() for p in _server_parts(exc)]
            if want.lower() not in names:
                raise MatchError(f"expected errorCodeName {want}, got {names} ({label})")
        elif key == "errorLabelsContain":
            missing = [name for name in want if not _has_label(exc, name)]
            if missing:
                raise MatchError(f"expected labels {missing} ({label}; {_label_list(exc)})")
        elif key == "errorLabelsOmit":
            present = [name for name in want if _has_label(exc, name)]
            if present:
                raise MatchError(f"expected labels {present} absent ({label})")
        elif key == "errorResponse":
            details = getattr(exc, "details", None)
            if isinstance(exc, ClientBulkWriteException) and exc.error is not None:
                details = getattr(exc.error, "details", None)
            if details is None:
                raise MatchError(f"expected a server response, got {label}")
            matcher.match(want, details, path="errorResponse")
        elif key == "expectResult":
            matcher.match(want, _partial_result(exc), path="error.result")
        elif key == "writeErrors":
            _match_write_errors(matcher, want, exc)
        elif key == "writeConcernErrors":
            actual = list(getattr(exc, "write_concern_errors", None) or [])
            if len(actual) != len(want):
                raise MatchError(f"expected {len(want)} writeConcernErrors, got {actual!r}")
            for index, (exp, act) in enumerate(zip(want, actual, strict=True)):
                matcher.match(exp, act, path=f"writeConcernErrors[{index}]")
        else:
            raise Unsupported(f"runner lacks expectError.{key}")


def _partial_result(exc: BaseException) -> Any:
    if isinstance(exc, ClientBulkWriteException):
        return client_bulk(exc.partial_result)
    if isinstance(exc, BulkWriteError):
        return bulk_from_raw(exc.details, getattr(exc, "_spec_inserted_ids", {}))
    return None


def _match_write_errors(matcher: Matcher, want: Mapping[str, Any], exc: BaseException) -> None:
    actual = {str(e["idx"]): e for e in getattr(exc, "write_errors", None) or []}
    if set(actual) != set(want):
        raise MatchError(f"expected writeErrors at {sorted(want)}, got {sorted(actual)}")
    for index, expected in want.items():
        matcher.match(expected, actual[index], path=f"writeErrors.{index}")


def _label_list(exc: BaseException) -> str:
    labels = getattr(exc, "_error_labels", None)
    return f"labels {sorted(labels)}" if labels is not None else "no labels"

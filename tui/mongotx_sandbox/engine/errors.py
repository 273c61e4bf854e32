"""EngineError and the translation of library exceptions into MongoDB error codes."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

# Code names of the MongoDB error codes the engine raises (src/mongo/base/error_codes.yml).
CODE_NAMES: dict[int, str] = {
    1: "InternalError",
    2: "BadValue",
    9: "FailedToParse",
    14: "TypeMismatch",
    15: "Overflow",
    17: "ProtocolError",
    27: "IndexNotFound",
    28: "PathNotViable",
    40: "ConflictingUpdateOperators",
    52: "DollarPrefixedFieldName",
    53: "InvalidIdField",
    54: "NotSingleValueField",
    55: "InvalidDBRef",
    56: "EmptyFieldName",
    57: "DottedFieldName",
    66: "ImmutableField",
    72: "InvalidOptions",
    115: "CommandNotSupported",
    168: "InvalidPipelineOperator",
    241: "ConversionFailure",
    291: "NoQueryExecutionPlans",
    40324: "Location40324",
    40352: "Location40352",
    31249: "Location31249",
    31250: "Location31250",
    31253: "Location31253",
    31254: "Location31254",
    51246: "Location51246",
    15955: "Location15955",
    15975: "Location15975",
    16410: "Location16410",
    40323: "Location40323",
    40156: "Location40156",
    40157: "Location40157",
    40158: "Location40158",
    40160: "Location40160",
    16020: "Location16020",
    16554: "TypeMismatch",
    16608: "Location16608",
}


class EngineError(Exception):
    """A MongoDB error raised by the engine: code (int), code_name (str), message (str)."""

    def __init__(self, code: int, code_name: str | None = None, message: str = "") -> None:
        self.code = int(code)
        self.code_name = code_name or CODE_NAMES.get(self.code, f"Location{self.code}")
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"EngineError({self.code}, {self.code_name!r}, {self.message!r})"


def err(code: int, message: str) -> EngineError:
    """An EngineError with the standard code name of ``code``."""
    return EngineError(code, CODE_NAMES.get(code, f"Location{code}"), message)


def bad_value(message: str) -> EngineError:
    return err(2, message)


# Library messages -> the closest MongoDB code. Checked in order; first match wins.
# Compiled on the first translation, not at import: compiling them costs about 0.5 ms of the
# workbench's cold start, and most sessions never translate a library error.
_MESSAGE_RULES: tuple[tuple[str, int], ...] = (
    (r"Unrecognized pipeline stage name", 40324),
    (r"is not a valid operator for the aggregation pipeline", 40324),
    (r"valid operator for the aggregation pipeline", 40324),
    (r"Unrecognized expression", 168),
    (r"not a valid group operator", 15952),
    (r"group operator", 15952),
    (r"valid (project|comparison|boolean|set|array|string|date|type) operator", 168),
    (r"is a valid operation but it is not supported", 168),
    (r"unknown operator", 2),
    (r"unknown top level operator", 2),
    (r"\$unwind", 28812),
    (r"must be a (number|string|Dictionary)", 40156),
    (r"Must specify '", 40323),
    (r"FieldPath field names may not start with '\$'", 16410),
    (r"invalid literal|could not convert|Failed to parse", 241),
    (r"(?i)\$expr|expression", 2),
)


@functools.cache
def _compiled_rules() -> list[tuple[re.Pattern[str], int]]:
    return [(re.compile(pattern), code) for pattern, code in _MESSAGE_RULES]


def _code_from_message(message: str, default: int) -> int:
    for pattern, code in _compiled_rules():
        if pattern.search(message):
            return code
    return default


# Python's words that the library's own checks let through (issue 16, item 6): a type
# shown as <class 'float'> becomes its BSON name; an interpreter phrase replaces the whole
# message, which says only that the argument is invalid.
_PY_CLASS = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")
_BSON_NAMES = {
    "float": "double",
    "str": "string",
    "dict": "object",
    "SON": "object",
    "list": "array",
    "tuple": "array",
    "NoneType": "null",
    "int": "int",
    "bool": "bool",
    "Int64": "long",
    "Decimal128": "decimal",
    "Decimal": "decimal",
    "datetime": "date",
    "DatetimeMS": "date",
    "Code": "javascript",
    "ObjectId": "objectId",
    "bytes": "binData",
    "Binary": "binData",
    "UUID": "binData",
    "Regex": "regex",
    "Pattern": "regex",
    "Timestamp": "timestamp",
    "MinKey": "minKey",
    "MaxKey": "maxKey",
}
_PY_PHRASES = re.compile(
    r"object is not|is not iterable|argument of type|object has no attribute|unsupported operand|unhashable type|"
    r"index out of range|local variable|cannot convert float|not subscriptable|"
    r"positional argument|unexpected keyword|invalid literal|NoneType|object of type|"
    r"'(?:float|str|dict|list|tuple|Int64|Decimal128|DatetimeMS|Code|ObjectId|bytes)'|"
    r"\b(?:Type|Value|Key|Index|Attribute|UnboundLocal|Overflow|InvalidDocument)Error\b"
)


def _mongo_words(message: str, context: str) -> str:
    message = _PY_CLASS.sub(lambda m: _BSON_NAMES.get(m.group(1), "unknown"), message)
    if _PY_PHRASES.search(message):
        return f"{context}invalid argument (the sandbox's query engine cannot evaluate it)"
    return message


def translate(exc: BaseException, context: str = "") -> EngineError:
    """Turn any exception raised inside the engine (or by the library) into an EngineError
    whose message has no Python in it."""
    if isinstance(exc, EngineError):
        return exc
    found = _translate(exc, context)
    found.message = _mongo_words(found.message, context)
    return found


def _translate(
    exc: BaseException, context: str
) -> EngineError:  # Imported lazily: only this package may know about the library.
    try:
        from pymongo.errors import OperationFailure
    except ImportError:  # pragma: no cover
        OperationFailure = ()  # type: ignore[assignment,misc]
    message = str(exc) or type(exc).__name__
    if OperationFailure and isinstance(exc, OperationFailure):
        code = exc.code
        if not code or code in (1, 8):
            code = _code_from_message(message, 2)
        return err(int(code), message)
    if isinstance(exc, NotImplementedError):
        # Something MongoDB supports but the library does not: report it as a real server
        # reports an unknown operator/stage (see the package docstring).
        return err(_code_from_message(message, 2), message)
    if isinstance(
        exc,
        (ValueError, TypeError, KeyError, AssertionError, AttributeError, IndexError, NameError),
    ):
        if isinstance(exc, KeyError):
            message = f"missing field {message}"
        return err(_code_from_message(message, 2), f"{context}{message}")
    if isinstance(exc, (OverflowError, ZeroDivisionError, ArithmeticError)):
        return err(2, f"{context}{message}")
    if isinstance(exc, RecursionError):
        return err(2, f"{context}document or expression nested too deeply")
    return err(1, f"{context}an internal error occurred in the query engine")


F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Last-resort guard: no Python exception may escape a public engine function.

    The server runs client input through the engine; one malformed request must never kill it,
    so anything that is not already an EngineError becomes one (InternalError when nothing
    closer is known).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EngineError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper  # type: ignore[return-value]

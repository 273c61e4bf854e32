"""The unified format's "Evaluating Matches" rules and its `$$` operators."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bson import (
    Binary,
    Code,
    DBRef,
    Decimal128,
    Int64,
    MaxKey,
    MinKey,
    ObjectId,
    Regex,
    Timestamp,
    json_util,
)

Lookup = Callable[[str], Any]


class MatchError(AssertionError):
    """An expected value did not match; the message names the path."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bson_type(value: Any) -> str:
    """The `$type` alias of a decoded BSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "long"
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, bytes | Binary):
        return "binData"
    if isinstance(value, ObjectId):
        return "objectId"
    if isinstance(value, datetime.datetime):
        return "date"
    if isinstance(value, Regex | re.Pattern):
        return "regex"
    if isinstance(value, Code):
        return "javascriptWithScope" if value.scope is not None else "javascript"
    if isinstance(value, Timestamp):
        return "timestamp"
    if isinstance(value, Decimal128 | Decimal):
        return "decimal"
    if isinstance(value, MinKey):
        return "minKey"
    if isinstance(value, MaxKey):
        return "maxKey"
    if isinstance(value, DBRef):
        return "object"
    return type(value).__name__


def _type_matches(alias: str, actual: Any) -> bool:
    kind = _bson_type(actual)
    if alias == "number":
        return kind in ("int", "long", "double", "decimal")
    return kind == alias


def _is_operator(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)).startswith("$$")


def values_equal(expected: Any, actual: Any) -> bool:
    if _is_number(expected) and _is_number(actual):
        return expected == actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, bytes | Binary) and isinstance(actual, bytes | Binary):
        return _bin(expected) == _bin(actual)
    return type(expected) is type(actual) and expected == actual


def _bin(value: bytes | Binary) -> tuple[int, bytes]:
    return (value.subtype, bytes(value)) if isinstance(value, Binary) else (0, bytes(value))


class Matcher:
    """Match expected values against actual ones; `lookup` resolves entity names."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup

    def match(self, expected: Any, actual: Any, *, root: bool = True, path: str = "") -> None:
        """Raise `MatchError` unless `actual` matches `expected`."""
        if _is_operator(expected):
            self._operator(expected, actual, root=root, path=path)
        elif isinstance(expected, Mapping):
            self._document(expected, actual, root=root, path=path)
        elif isinstance(expected, list):
            self._array(expected, actual, path=path)
        elif not values_equal(expected, actual):
            raise MatchError(f"{path or '<value>'}: expected {expected!r}, got {actual!r}")

    def _document(self, expected: Mapping[str, Any], actual: Any, *, root: bool, path: str) -> None:
        if not isinstance(actual, Mapping):
            raise MatchError(f"{path or '<doc>'}: expected a document, got {actual!r}")
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else key
            if _is_operator(value):
                op = next(iter(value))
                if op == "$$exists":
                    if bool(value[op]) != (key in actual):
                        state = "present" if key in actual else "absent"
                        raise MatchError(f"{sub}: expected $$exists {value[op]}, key is {state}")
                    continue
                if op == "$$unsetOrMatches":
                    if key in actual:
                        self.match(value[op], actual[key], root=False, path=sub)
                    continue
            if key not in actual:
                raise MatchError(f"{sub}: missing (expected {value!r})")
            self.match(value, actual[key], root=False, path=sub)
        if not root:
            extra = [k for k in actual if k not in expected]
            if extra:
                raise MatchError(f"{path or '<doc>'}: unexpected keys {extra}")

    def _array(self, expected: list[Any], actual: Any, *, path: str) -> None:
        if not isinstance(actual, list | tuple):
            raise MatchError(f"{path or '<array>'}: expected an array, got {actual!r}")
        if len(expected) != len(actual):
            raise MatchError(
                f"{path or '<array>'}: expected {len(expected)} elements, got {len(actual)}: "
                f"{list(actual)!r}"
            )
        for index, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            self.match(exp, act, root=False, path=f"{path}[{index}]")

    def _operator(self, expected: Mapping[str, Any], actual: Any, *, root: bool, path: str) -> None:
        op, arg = next(iter(expected.items()))
        where = path or "<value>"
        if op == "$$type":
            aliases = arg if isinstance(arg, list) else [arg]
            if not any(_type_matches(a, actual) for a in aliases):
                raise MatchError(f"{where}: expected type {aliases}, got {_bson_type(actual)}")
        elif op == "$$unsetOrMatches":
            if actual is not None:
                self.match(arg, actual, root=root, path=path)
        elif op == "$$exists":
            if not arg:
                raise MatchError(f"{where}: expected to be absent")
        elif op == "$$sessionLsid":
            lsid = self.lookup(f"lsid:{arg}")
            if actual != lsid:
                raise MatchError(f"{where}: expected lsid of {arg} {lsid!r}, got {actual!r}")
        elif op == "$$matchesEntity":
            self.match(self.lookup(arg), actual, root=root, path=path)
        elif op == "$$lte":
            if not (_is_number(actual) and actual <= arg):
                raise MatchError(f"{where}: expected a number <= {arg!r}, got {actual!r}")
        elif op == "$$matchAsDocument":
            if not isinstance(actual, str):
                raise MatchError(f"{where}: $$matchAsDocument needs a string, got {actual!r}")
            self.match(arg, json_util.loads(actual), root=False, path=path)
        elif op == "$$matchAsRoot":
            self.match(arg, actual, root=True, path=path)
        elif op == "$$matchesHexBytes":
            if not isinstance(actual, bytes | Binary) or bytes(actual).hex() != arg.lower():
                raise MatchError(f"{where}: expected bytes {arg}, got {actual!r}")
        else:
            raise NotImplementedError(f"runner lacks match operator {op}")


def exact_equal(expected: Any, actual: Any) -> bool:
    """Outcome comparison: no operators, no extra keys, key order ignored, numbers by value."""
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and set(expected) == set(actual)
            and all(exact_equal(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(expected) == len(actual)
            and all(exact_equal(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return values_equal(expected, actual)

"""BSON comparison order, numeric equivalence and hashable canonical keys.

Source: MongoDB manual, "Comparison/Sort Order" (reference/bson-type-comparison-order):
MinKey < null < numbers < symbol/string < object < array < binData < ObjectId < bool < date
< timestamp < regex < MaxKey. Numbers compare by value across int/long/double/decimal;
objects compare field by field (type, then name, then value); arrays element by element;
binData by length, then subtype, then bytes. NaN is smaller than every other number and equal
to itself. Missing fields compare as null.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections.abc import Hashable, Mapping
from typing import Any

from bson.binary import Binary
from bson.code import Code
from bson.datetime_ms import DatetimeMS
from bson.dbref import DBRef
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp

from .active_collation import ACTIVE as _COLLATION


class _Missing:
    """Marker for an absent field (compares as null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


class _EmptyArraySortKey:
    """Sort key of an empty array: MongoDB sorts it before null (as 'undefined')."""

    def __repr__(self) -> str:
        return "EMPTY_ARRAY"


EMPTY_ARRAY_KEY = _EmptyArraySortKey()
# The same rank as an empty array's sort key: "undefined", between MinKey and null.
UNDEFINED = EMPTY_ARRAY_KEY

# Canonical type ranks (src/mongo/bson/bsontypes.h canonicalizeBSONType).
R_MINKEY = -1
R_UNDEFINED = 0
R_NULL = 5
R_NUMBER = 10
R_STRING = 15
R_OBJECT = 20
R_ARRAY = 25
R_BINDATA = 30
R_OID = 35
R_BOOL = 40
R_DATE = 45
R_TIMESTAMP = 47
R_REGEX = 50
R_CODE = 60
R_CODE_SCOPE = 65
R_MAXKEY = 127

_RE_PATTERN = re.Pattern

_EXACT_RANKS: dict[type, int] = {
    int: R_NUMBER,
    Int64: R_NUMBER,
    float: R_NUMBER,
    Decimal128: R_NUMBER,
    str: R_STRING,
    dict: R_OBJECT,
    list: R_ARRAY,
    tuple: R_ARRAY,
    bytes: R_BINDATA,
    Binary: R_BINDATA,
    uuid.UUID: R_BINDATA,
    ObjectId: R_OID,
    bool: R_BOOL,
    datetime.datetime: R_DATE,
    DatetimeMS: R_DATE,
    Timestamp: R_TIMESTAMP,
    Regex: R_REGEX,
    _RE_PATTERN: R_REGEX,
    MinKey: R_MINKEY,
    MaxKey: R_MAXKEY,
    type(None): R_NULL,
    _Missing: R_NULL,
    _EmptyArraySortKey: R_UNDEFINED,
    DBRef: R_OBJECT,
}


def type_rank(value: Any) -> int:
    """The canonical BSON type rank of a value (numbers share one rank)."""
    rank = _EXACT_RANKS.get(type(value))
    if rank is not None:
        return rank
    # Subclasses (Code is a str subclass, SON/OrderedDict are dicts...). bool before int.
    if isinstance(value, Code):
        return R_CODE if value.scope is None else R_CODE_SCOPE
    if isinstance(value, bool):
        return R_BOOL
    if isinstance(value, (int, float, Decimal128, decimal.Decimal)):
        return R_NUMBER
    if isinstance(value, str):
        return R_STRING
    if isinstance(value, Mapping):
        return R_OBJECT
    if isinstance(value, (list, tuple)):
        return R_ARRAY
    if isinstance(value, (bytes, uuid.UUID)):
        return R_BINDATA
    if isinstance(value, datetime.datetime):
        return R_DATE
    if isinstance(value, DBRef):
        return R_OBJECT
    raise TypeError(f"value of unsupported type {type(value).__name__}: {value!r}")


def is_number(value: Any) -> bool:
    t = type(value)
    if t is int or t is float or t is Int64 or t is Decimal128:
        return True
    return not isinstance(value, bool) and isinstance(value, (int, float, Decimal128))


def is_nan(value: Any) -> bool:
    if type(value) is float:
        return value != value
    if isinstance(value, Decimal128):
        return value.to_decimal().is_nan()
    return False


def _num(value: Any) -> Any:
    """A Python number usable for exact comparison (int, float or decimal.Decimal)."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return value


def _compare_numbers(a: Any, b: Any) -> int:
    a = _num(a)
    b = _num(b)
    a_nan = a != a if not isinstance(a, decimal.Decimal) else a.is_nan()
    b_nan = b != b if not isinstance(b, decimal.Decimal) else b.is_nan()
    if a_nan or b_nan:
        if a_nan and b_nan:
            return 0
        return -1 if a_nan else 1
    if a < b:
        return -1
    if a > b:
        return 1
    return 0


def _binary_parts(value: Any) -> tuple[int, int, bytes]:
    if isinstance(value, uuid.UUID):
        return 16, 4, value.bytes
    if isinstance(value, Binary):
        return len(value), value.subtype, bytes(value)
    return len(value), 0, bytes(value)


_EPOCH = datetime.datetime(1970, 1, 1)
_MICRO = datetime.timedelta(microseconds=1)


def _naive_utc(value: datetime.datetime | DatetimeMS) -> int:
    """A date as microseconds since the epoch. A BSON date outside Python's datetime range
    (years 1-9999) arrives as DatetimeMS and is as valid a date to mongod as any other."""
    if isinstance(value, DatetimeMS):
        return int(value) * 1000
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return (value - _EPOCH) // _MICRO


def _regex_parts(value: Any) -> tuple[str, str]:
    from .regex import flags_to_string

    return value.pattern, flags_to_string(value.flags)


def _items(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, DBRef):
        return list(value.as_doc().items())
    return list(value.items())


def _cmp(a: Any, b: Any) -> int:
    if a < b:
        return -1
    if a > b:
        return 1
    return 0


def compare_values(a: Any, b: Any) -> int:
    """-1, 0 or 1: how ``a`` compares with ``b`` in MongoDB's BSON order."""
    ta = type(a)
    # Fast paths for the common same-type cases.
    if ta is type(b):
        if ta is str:
            key = _COLLATION.get()
            if key is not None:
                a = key(a)
                b = key(b)
            return (a > b) - (a < b)
        if ta is int or ta is Int64:
            return (a > b) - (a < b)
        if ta is ObjectId:
            return (a > b) - (a < b)
    ra = type_rank(a)
    rb = type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == R_NUMBER:
        return _compare_numbers(a, b)
    if ra == R_STRING:
        key = _COLLATION.get()
        if key is not None:
            return _cmp(key(str(a)), key(str(b)))
        return _cmp(str(a), str(b))
    if ra in (R_NULL, R_MINKEY, R_MAXKEY, R_UNDEFINED):
        return 0
    if ra == R_OBJECT:
        ia = _items(a)
        ib = _items(b)
        for (ka, va), (kb, vb) in zip(ia, ib, strict=False):
            ta_, tb_ = type_rank(va), type_rank(vb)
            if ta_ != tb_:
                return -1 if ta_ < tb_ else 1
            c = _cmp(ka, kb)
            if c:
                return c
            c = compare_values(va, vb)
            if c:
                return c
        return _cmp(len(ia), len(ib))
    if ra == R_ARRAY:
        for va, vb in zip(a, b, strict=False):
            c = compare_values(va, vb)
            if c:
                return c
        return _cmp(len(a), len(b))
    if ra == R_BINDATA:
        return _cmp(_binary_parts(a), _binary_parts(b))
    if ra == R_OID:
        return _cmp(a.binary, b.binary)
    if ra == R_BOOL:
        return _cmp(bool(a), bool(b))
    if ra == R_DATE:
        return _cmp(_naive_utc(a), _naive_utc(b))
    if ra == R_TIMESTAMP:
        return _cmp((a.time, a.inc), (b.time, b.inc))
    if ra == R_REGEX:
        return _cmp(_regex_parts(a), _regex_parts(b))
    if ra == R_CODE:
        return _cmp(str(a), str(b))
    if ra == R_CODE_SCOPE:
        c = _cmp(str(a), str(b))
        return c or compare_values(dict(a.scope), dict(b.scope))
    raise TypeError(f"cannot compare {a!r} and {b!r}")  # pragma: no cover


def values_equal(a: Any, b: Any) -> bool:
    return compare_values(a, b) == 0


_NAN_KEY = (R_NUMBER, "NaN")


def canonical_key(value: Any) -> Hashable:
    """A hashable key: canonical_key(a) == canonical_key(b) iff compare_values(a, b) == 0.

    Numbers use Python's own numeric equality and hashing, which are exact and consistent
    across int, float and decimal.Decimal (so 1, 1.0, Int64(1) and Decimal128("1") share a key);
    the type rank in front keeps True apart from 1.
    """
    t = type(value)
    if t is int or t is Int64:
        return (R_NUMBER, int(value))
    if t is str:
        return (R_STRING, value)
    if t is ObjectId:
        return (R_OID, value.binary)
    if t is float:
        if value != value:
            return _NAN_KEY
        return (R_NUMBER, value)
    rank = type_rank(value)
    if rank == R_NUMBER:
        n = _num(value)
        if isinstance(n, decimal.Decimal):
            if n.is_nan():
                return _NAN_KEY
            if n.is_infinite():
                return (R_NUMBER, math.inf if n > 0 else -math.inf)
        elif n != n:
            return _NAN_KEY
        return (R_NUMBER, n)
    if rank == R_STRING:
        return (R_STRING, str(value))
    if rank in (R_NULL, R_MINKEY, R_MAXKEY, R_UNDEFINED):
        return (rank,)
    if rank == R_OBJECT:
        return (
            R_OBJECT,
            tuple((type_rank(v), k, canonical_key(v)) for k, v in _items(value)),
        )
    if rank == R_ARRAY:
        return (R_ARRAY, tuple(canonical_key(v) for v in value))
    if rank == R_BINDATA:
        return (R_BINDATA, *_binary_parts(value))
    if rank == R_OID:
        return (R_OID, value.binary)
    if rank == R_BOOL:
        return (R_BOOL, bool(value))
    if rank == R_DATE:
        return (R_DATE, _naive_utc(value))
    if rank == R_TIMESTAMP:
        return (R_TIMESTAMP, value.time, value.inc)
    if rank == R_REGEX:
        return (R_REGEX, *_regex_parts(value))
    if rank == R_CODE:
        return (R_CODE, str(value))
    if rank == R_CODE_SCOPE:
        return (R_CODE_SCOPE, str(value), canonical_key(dict(value.scope)))
    raise TypeError(f"no canonical key for {value!r}")  # pragma: no cover


def collated_key(value: Any) -> Hashable:
    """canonical_key under the active collation (strings, also inside documents and arrays,
    key by their collation key): equal iff compare_values(a, b) == 0 under that collation."""
    key = _COLLATION.get()
    if key is None:
        return canonical_key(value)
    return _collated_key(value, key)


def _collated_key(value: Any, key: Any) -> Hashable:
    if type(value) is str:
        return (R_STRING, key(value))
    rank = type_rank(value)
    if rank == R_STRING:
        return (R_STRING, key(str(value)))
    if rank == R_OBJECT:
        return (
            R_OBJECT,
            tuple((type_rank(v), k, _collated_key(v, key)) for k, v in _items(value)),
        )
    if rank == R_ARRAY:
        return (R_ARRAY, tuple(_collated_key(v, key) for v in value))
    return canonical_key(value)


# BSON type codes and $type aliases (manual: reference/operator/query/type).
TYPE_ALIASES: dict[str, int] = {
    "double": 1,
    "string": 2,
    "object": 3,
    "array": 4,
    "binData": 5,
    "undefined": 6,
    "objectId": 7,
    "bool": 8,
    "date": 9,
    "null": 10,
    "regex": 11,
    "dbPointer": 12,
    "javascript": 13,
    "symbol": 14,
    "javascriptWithScope": 15,
    "int": 16,
    "timestamp": 17,
    "long": 18,
    "decimal": 19,
    "minKey": -1,
    "maxKey": 127,
}
TYPE_NAMES: dict[int, str] = {v: k for k, v in TYPE_ALIASES.items()}

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def bson_type_code(value: Any) -> int:
    """The BSON type number a value is stored as (MISSING -> 0, meaning 'missing')."""
    t = type(value)
    if t is int:
        return 16 if _INT32_MIN <= value <= _INT32_MAX else 18
    if t is str:
        return 2
    if t is float:
        return 1
    if t is Int64:
        return 18
    if t is bool:
        return 8
    if value is None:
        return 10
    if value is MISSING:
        return 0
    if isinstance(value, Code):
        return 13 if value.scope is None else 15
    if isinstance(value, bool):
        return 8
    if isinstance(value, Int64):
        return 18
    if isinstance(value, int):
        return 16 if _INT32_MIN <= value <= _INT32_MAX else 18
    if isinstance(value, float):
        return 1
    if isinstance(value, Decimal128):
        return 19
    if isinstance(value, str):
        return 2
    if isinstance(value, (Mapping, DBRef)):
        return 3
    if isinstance(value, (list, tuple)):
        return 4
    if isinstance(value, (bytes, uuid.UUID)):
        return 5
    if isinstance(value, ObjectId):
        return 7
    if isinstance(value, datetime.datetime | DatetimeMS):
        return 9
    if isinstance(value, (Regex, _RE_PATTERN)):
        return 11
    if isinstance(value, Timestamp):
        return 17
    if isinstance(value, MinKey):
        return -1
    if isinstance(value, MaxKey):
        return 127
    raise TypeError(f"value of unsupported type {type(value).__name__}")


def type_name(value: Any) -> str:
    """The $type name of a value ("missing" for an absent field)."""
    if value is MISSING:
        return "missing"
    return TYPE_NAMES[bson_type_code(value)]

"""Arithmetic that keeps MongoDB's numeric types (int32 / Int64 / double / Decimal128).

Source: manual, $inc / $mul ("Behavior"): the result type follows the widest operand type; an
int32 result that overflows becomes a long; Decimal128 wins over everything.
Python ``int`` is int32 when it fits in 32 bits (that is how bson encodes it), ``Int64`` is long.
"""

from __future__ import annotations

import decimal
from typing import Any

from bson.decimal128 import Decimal128, create_decimal128_context
from bson.int64 import Int64

from .compare import is_number

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_DEC_CTX = create_decimal128_context()

K_INT, K_LONG, K_DOUBLE, K_DECIMAL = 0, 1, 2, 3


def kind(value: Any) -> int:
    if isinstance(value, Decimal128):
        return K_DECIMAL
    if isinstance(value, float):
        return K_DOUBLE
    if isinstance(value, Int64):
        return K_LONG
    if _INT32[0] <= value <= _INT32[1]:
        return K_INT
    return K_LONG


def to_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, float):
        return _DEC_CTX.create_decimal_from_float(value)
    return decimal.Decimal(int(value))


def _finish(result_kind: int, value: Any) -> Any:
    if result_kind == K_DECIMAL:
        return Decimal128(_DEC_CTX.create_decimal(value))
    if result_kind == K_DOUBLE:
        return float(value)
    value = int(value)
    if result_kind == K_INT and _INT32[0] <= value <= _INT32[1]:
        return value
    if _INT64[0] <= value <= _INT64[1]:
        return Int64(value)
    # long overflow: MongoDB falls back to a double
    return float(value)


def _binary(a: Any, b: Any, op: str) -> Any:
    k = max(kind(a), kind(b))
    if k == K_DECIMAL:
        da, db = to_decimal(a), to_decimal(b)
        with decimal.localcontext(_DEC_CTX):
            value = da + db if op == "+" else da * db
        return _finish(k, value)
    if k == K_DOUBLE:
        fa, fb = float(a), float(b)
        return _finish(k, fa + fb if op == "+" else fa * fb)
    ia, ib = int(a), int(b)
    return _finish(k, ia + ib if op == "+" else ia * ib)


def negate(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return Decimal128(-value.to_decimal())
    k = kind(value)
    return _finish(k, -value) if k != K_INT else _finish(K_INT, -int(value))


def subtract(a: Any, b: Any) -> Any:
    return add(a, negate(b))


def add(a: Any, b: Any) -> Any:
    return _binary(a, b, "+")


def multiply(a: Any, b: Any) -> Any:
    return _binary(a, b, "*")


def zero_like(value: Any) -> Any:
    """0 of the type of ``value`` ($mul on a missing field stores 0 of the multiplier's type)."""
    k = kind(value)
    return _finish(k, 0)


def sum_values(values: list[Any]) -> Any:
    """$sum: numbers only (others ignored), int when all ints fit, else widened."""
    total: Any = 0
    for v in values:
        if is_number(v):
            total = add(total, v)
    return total

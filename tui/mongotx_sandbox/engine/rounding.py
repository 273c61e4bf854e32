"""$round, $trunc and $abs, evaluated by us: the library rounds with Python's round(), which for
an integer and a huge negative place computes 10**place and stalls the server (issue 16).

MongoDB's rules (server: src/mongo/db/pipeline/expression.cpp, ExpressionRound and
ExpressionTrunc; jstests/aggregation/expressions/round_trunc.js): one or two arguments
(28667); a number to round (51081); a place that is integral (51082) and in [-20, 100]
(51083); null or missing gives null; NaN and infinities stay; an integer with a place
>= 0 stays; an int32 that no longer fits becomes a long, a long that no longer fits is
51080; halves round to even (manual: $round, "Rounding to Even Values").
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import Any

from bson.decimal128 import Decimal128, create_decimal128_context
from bson.int64 import Int64

from .compare import MISSING, is_number, type_name
from .errors import err
from .numeric import K_DECIMAL, K_DOUBLE, K_INT, kind, to_decimal

_CONTEXT = create_decimal128_context()
_MODES = {"$round": decimal.ROUND_HALF_EVEN, "$trunc": decimal.ROUND_DOWN}


def _place(op: str, value: Any) -> int:
    if not is_number(value) or isinstance(value, bool):
        raise err(51082, f"precision argument to {op} must be a integral value")
    number = to_decimal(value)
    if not number.is_finite() or number != number.to_integral_value():
        raise err(51082, f"precision argument to {op} must be a integral value")
    place = int(number)
    if not -20 <= place <= 100:
        raise err(
            51083, f"cannot apply {op} with precision value {place} value must be in [-20, 100]"
        )
    return place


def _apply(op: str, value: Any, place: int) -> Any:
    k = kind(value)
    if k == K_DOUBLE:
        if not math.isfinite(value):
            return value
    elif k == K_DECIMAL:
        if not value.to_decimal().is_finite():
            return value
    elif place >= 0:
        return value  # an integer has nothing after the point
    exponent = decimal.Decimal(1).scaleb(-place)
    with decimal.localcontext(_CONTEXT) as ctx:
        ctx.rounding = _MODES[op]
        result = (
            to_decimal(value).quantize(exponent)
            if place >= 0
            else (to_decimal(value).scaleb(place).to_integral_value().scaleb(-place))
        )
    if k == K_DECIMAL:
        return Decimal128(result)
    if k == K_DOUBLE:
        return float(result)
    whole = int(result)
    if k == K_INT and -(2**31) <= whole < 2**31:
        return whole
    if -(2**63) <= whole < 2**63:
        return Int64(whole)
    raise err(
        51080,
        f"invalid conversion from Decimal128 result in {op} resulting from arguments: [{value}, {place}]",
    )


def rounding(op: str) -> Callable[[Callable[[Any], Any], Any, Any], Any]:
    def handler(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
        args = arg if isinstance(arg, list) else [arg]
        if not 1 <= len(args) <= 2:
            raise err(
                28667,
                f"Expression {op} takes at least 1 argument, and at most 2, but {len(args)} "
                "were passed in.",
            )
        value = ev(args[0])
        place_value = ev(args[1]) if len(args) == 2 else 0
        if value is None or value is MISSING or place_value is None or place_value is MISSING:
            return None
        if not is_number(value) or isinstance(value, bool):
            raise err(51081, f"{op} only supports numeric types, not {type_name(value)}")
        return _apply(op, value, _place(op, place_value))

    return handler


def absolute(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    """$abs: the library's, but the smallest long has no long absolute value: MongoDB
    answers 28680 (server: expression.cpp, ExpressionAbs) where the reply could not even be
    encoded."""
    args = arg if isinstance(arg, list) else [arg]
    if len(args) != 1:
        raise err(16020, f"Expression $abs takes exactly 1 arguments. {len(args)} were passed in.")
    number = ev(args[0])
    if number is None or number is MISSING:
        return None
    if not is_number(number) or isinstance(number, bool):
        raise err(28765, f"$abs only supports numeric types, not {type_name(number)}")
    if kind(number) not in (K_DOUBLE, K_DECIMAL) and int(number) == -(2**63):
        raise err(28680, "can't take $abs of long long min")
    if isinstance(number, Decimal128):
        return Decimal128(abs(number.to_decimal()))
    if isinstance(number, Int64):
        return Int64(abs(int(number)))
    if kind(number) == K_INT and number == -(2**31):
        return Int64(2**31)  # an int32's absolute value that needs a long
    return abs(number)


def power(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    """$pow with MongoDB's result types (server: expression.cpp, ExpressionPow): integers
    stay integers while the result fits (int32, then long), else a double, which may be
    infinite: the library's Python math.pow raised "math range error" instead."""
    args = arg if isinstance(arg, list) else [arg]
    if len(args) != 2:
        raise err(16020, f"Expression $pow takes exactly 2 arguments. {len(args)} were passed in.")
    base, exp = ev(args[0]), ev(args[1])
    if base is None or base is MISSING or exp is None or exp is MISSING:
        return None
    if not is_number(base) or isinstance(base, bool):
        raise err(28762, f"$pow's base must be numeric, not {type_name(base)}")
    if not is_number(exp) or isinstance(exp, bool):
        raise err(28763, f"$pow's exponent must be numeric, not {type_name(exp)}")
    kinds = {kind(base), kind(exp)}
    if K_DECIMAL in kinds:
        with decimal.localcontext(_CONTEXT):
            return Decimal128(to_decimal(base) ** to_decimal(exp))
    if base == 0 and exp < 0:
        raise err(28764, "$pow cannot take a base of 0 and a negative exponent")
    if K_DOUBLE not in kinds:
        b, e = int(base), int(exp)
        if e >= 0 and (abs(b) <= 1 or e < 64):  # a bounded integer power: exact
            whole = b**e  # bounded: |b| <= 1, or e < 64
            if K_INT in kinds and kinds == {K_INT} and -(2**31) <= whole < 2**31:
                return whole
            if -(2**63) <= whole < 2**63:
                return Int64(whole)
        elif e < 0 and abs(b) == 1:
            return b if e % 2 else 1
    try:
        return math.pow(float(base), float(exp))
    except OverflowError:
        return math.copysign(math.inf, -1.0 if float(base) < 0 and float(exp) % 2 == 1 else 1.0)
    except ValueError:  # a negative base to a fractional power
        return math.nan

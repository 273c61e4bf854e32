"""Collation: language-style string comparison for matching, sorting, grouping and distinct.

Source: MongoDB manual, "Collation" (reference/collation): the collation document is
``{locale, caseLevel, caseFirst, strength, numericOrdering, alternate, maxVariable, backwards,
normalization}``; ``locale`` is required and ``"simple"`` means binary comparison. Strength 1
compares base characters only (ignores case and diacritics), 2 adds diacritics, 3 (default)
adds case (lowercase first unless ``caseFirst: "upper"``), 4 adds punctuation ignored under
``alternate: "shifted"``, 5 breaks remaining ties by code point. ``caseLevel`` adds a case
level at strength 1 and 2; ``numericOrdering`` compares digit runs as numbers;
``alternate: "shifted"`` ignores whitespace and punctuation (only whitespace with
``maxVariable: "space"``) below strength 4; ``backwards`` compares diacritics from the end.

Approximation: the server uses ICU with per-locale tailoring. The sandbox is locale
independent: it builds a UCA-like multi-level key from Unicode normalization (NFD/NFKD),
``str.casefold`` and accent stripping through ``unicodedata``. Base characters order as
whitespace < punctuation < symbols < digits < letters, letters by case-folded code point. Any
syntactically valid locale is accepted and behaves like the root locale. No pure-Python ICU
collator without native code was found on PyPI (PyICU needs the ICU C library).

The active collation travels in a context variable (``ACTIVE``, in active_collation.py)
holding the string key function, set by the engine's public functions for the duration of one
call; compare.py reads it for strings only, so calls without a collation keep their fast paths.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from .active_collation import ACTIVE, StringKey
from .compare import type_name
from .errors import EngineError

_FIELDS = (
    "locale",
    "caseLevel",
    "caseFirst",
    "strength",
    "numericOrdering",
    "alternate",
    "maxVariable",
    "backwards",
    "normalization",
    "version",
)
_BOOL_FIELDS = ("caseLevel", "numericOrdering", "backwards", "normalization")
_ENUMS = {
    "caseFirst": ("upper", "lower", "off"),
    "alternate": ("non-ignorable", "shifted"),
    "maxVariable": ("punct", "space"),
}
_LOCALE_RE = re.compile(r"^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*(@[A-Za-z]+=[A-Za-z0-9_-]+)?$")


def _bad(message: str) -> EngineError:
    return EngineError(2, "BadValue", message)


def _type_error(field: str, expected: str, value: Any) -> EngineError:
    return EngineError(
        14,
        "TypeMismatch",
        f"BSON field 'collation.{field}' is the wrong type '{type_name(value)}', "
        f"expected type '{expected}'",
    )


def validate(collation: Any) -> tuple | None:
    """The normalized settings of a collation document, or None for binary comparison.

    Settings: (strength, caseLevel, caseFirst, numericOrdering, alternate, maxVariable,
    backwards)."""
    if collation is None:
        return None
    if not isinstance(collation, dict):
        raise _type_error("collation", "object", collation)
    for field in collation:
        if field not in _FIELDS:
            raise EngineError(
                40415, "Location40415", f"BSON field 'collation.{field}' is an unknown field."
            )
    if "locale" not in collation:
        raise EngineError(
            40414, "Location40414", "BSON field 'locale' is missing but a required field"
        )
    locale = collation["locale"]
    if not isinstance(locale, str):
        raise _type_error("locale", "string", locale)
    if locale == "simple":
        if len(collation) > 1:
            raise _bad(f"If locale=simple, no other fields should be present in: {collation}")
        return None
    if not locale:
        raise _bad(f"Field 'locale' cannot be the empty string in: {collation}")
    if not _LOCALE_RE.match(locale):
        raise _bad(f"Field 'locale' is invalid in: {collation}")
    for field in _BOOL_FIELDS:
        if field in collation and not isinstance(collation[field], bool):
            raise _type_error(field, "bool", collation[field])
    for field, allowed in _ENUMS.items():
        if field in collation:
            value = collation[field]
            if not isinstance(value, str):
                raise _type_error(field, "string", value)
            if value not in allowed:
                choices = "', '".join(allowed)
                raise _bad(f"Field '{field}' must be one of '{choices}'. Got: {value}")
    strength = collation.get("strength", 3)
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        raise _type_error("strength", "int", strength)
    if strength != int(strength) or not 1 <= strength <= 5:
        raise _bad(f"Field 'strength' must be an integer 1 through 5. Got: {strength}")
    if "version" in collation and not isinstance(collation["version"], str):
        raise _type_error("version", "string", collation["version"])
    return (
        int(strength),
        bool(collation.get("caseLevel", False)),
        collation.get("caseFirst", "off"),
        bool(collation.get("numericOrdering", False)),
        collation.get("alternate", "non-ignorable"),
        collation.get("maxVariable", "punct"),
        bool(collation.get("backwards", False)),
    )


_KEYS: dict[Any, StringKey | None] = {}


def key_function(collation: dict[str, Any] | None) -> StringKey | None:
    """The string key function of a collation document (None: binary comparison).

    Validates the document (EngineError on a bad one); results are cached."""
    if collation is None:
        return None
    try:
        cache_key: Any = tuple(collation.items())
        hash(cache_key)
    except (TypeError, AttributeError):
        cache_key = None
    if cache_key is not None:
        found = _KEYS.get(cache_key, _KEYS)
        if found is not _KEYS:
            return found  # type: ignore[return-value]
    settings = validate(collation)
    fn = None if settings is None else _make_key(settings)
    if cache_key is not None:
        if len(_KEYS) > 256:
            _KEYS.clear()
        _KEYS[cache_key] = fn
    return fn


def is_simple(collation: dict[str, Any] | None) -> bool:
    """True for no collation or ``{locale: "simple"}`` (binary comparison)."""
    return key_function(collation) is None


def call_with(key: StringKey | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` with ``key`` as the active collation."""
    token = ACTIVE.set(key)
    try:
        return fn(*args, **kwargs)
    finally:
        ACTIVE.reset(token)


# ----------------------------------------------------------------------------- key builder

_SPACE, _PUNCT, _SYMBOL, _DIGIT, _LETTER = range(5)


def _char_class(ch: str) -> int:
    cat = unicodedata.category(ch)
    if cat[0] == "Z" or ch in "\t\n\r\x0b\x0c":
        return _SPACE
    if cat[0] == "P":
        return _PUNCT
    if cat[0] == "S":
        return _SYMBOL
    if cat == "Nd":
        return _DIGIT
    if cat[0] == "C":
        return _SPACE  # controls: ignorable-ish, sort with whitespace
    return _LETTER


def _elements(s: str, numeric: bool) -> list[tuple[tuple, str, int, int, int]]:
    """Collation elements: (primary, diacritics, is_upper, is_compat, char_class)."""
    out: list[tuple[tuple, str, int, int, int]] = []
    decomposed = unicodedata.normalize("NFD", s)
    i, n = 0, len(decomposed)
    while i < n:
        ch = decomposed[i]
        i += 1
        marks = ""
        while i < n and unicodedata.combining(decomposed[i]):
            marks += decomposed[i]
            i += 1
        cls = _char_class(ch)
        if cls == _DIGIT:
            digit = unicodedata.decimal(ch, None)
            if numeric and digit is not None:
                value = digit
                while i < n and unicodedata.decimal(decomposed[i], None) is not None:
                    value = value * 10 + unicodedata.decimal(decomposed[i])
                    i += 1
                out.append(((_DIGIT, value), marks, 0, 0, _DIGIT))
                continue
            out.append(((_DIGIT, str(digit) if digit is not None else ch), marks, 0, 0, _DIGIT))
            continue
        upper = 1 if ch != ch.lower() or ch.isupper() else 0
        folded = unicodedata.normalize("NFKD", ch.casefold())
        base = "".join(c for c in folded if not unicodedata.combining(c)) or ch
        marks += "".join(c for c in folded if unicodedata.combining(c))
        compat = 0 if base == ch.lower() else 1
        if len(base) == 1:
            out.append(((cls, base), marks, upper, compat, cls))
        else:  # expansions (ß -> ss, ligatures): one element per base character
            for j, c in enumerate(base):
                out.append(((_char_class(c), c), marks if j == 0 else "", upper, 1, cls))
    return out


def _make_key(settings: tuple) -> StringKey:
    strength, case_level, case_first, numeric, alternate, max_variable, backwards = settings
    shifted = alternate == "shifted"
    variable = {_SPACE} if max_variable == "space" else {_SPACE, _PUNCT}
    upper_first = case_first == "upper"

    @functools.lru_cache(maxsize=65536)
    def key(s: str) -> tuple:
        elements = _elements(s, numeric)
        kept = [e for e in elements if not (shifted and e[4] in variable)]
        levels: list[tuple] = [tuple(e[0] for e in kept)]
        if strength >= 2:
            marks = tuple(e[1] for e in kept)
            levels.append(marks[::-1] if backwards else marks)
        case = tuple((1 - e[2]) if upper_first else e[2] for e in kept)
        if case_level:
            levels.append(case)
        if strength >= 3:
            levels.append(tuple(zip(case, (e[3] for e in kept), strict=True)))
        if strength >= 4 and shifted:
            levels.append(
                tuple((0, e[0]) if e[4] in variable else (1,) for e in elements)  # type: ignore[misc]
            )
        if strength >= 5:
            levels.append((unicodedata.normalize("NFD", s),))
        return tuple(levels)

    return key

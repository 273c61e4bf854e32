"""Regular expressions: bson.regex.Regex / re.Pattern / $regex+$options to compiled Python re."""

from __future__ import annotations

import functools
import re
from typing import Any

from bson.regex import Regex

from .errors import bad_value, err

_FLAG_LETTERS = (
    (re.IGNORECASE, "i"),
    (re.MULTILINE, "m"),
    (re.DOTALL, "s"),
    (re.VERBOSE, "x"),
)
_LETTER_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def flags_to_string(flags: Any) -> str:
    if isinstance(flags, str):
        return "".join(sorted(flags))
    return "".join(sorted(letter for bit, letter in _FLAG_LETTERS if flags & bit))


def options_to_flags(options: str) -> int:
    flags = 0
    for letter in options:
        if letter in _LETTER_FLAGS:
            flags |= _LETTER_FLAGS[letter]
        elif letter == "u":
            continue
        else:
            # MongoDB: "invalid flag in regex options: q" (code 51108)
            raise bad_value(f"invalid flag in regex options: {letter}")
    return flags


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        # MongoDB: code 51091 "Regular expression is invalid: ..."

        raise err(51091, f"Regular expression is invalid: {exc}") from exc


def is_regex(value: Any) -> bool:
    return isinstance(value, (Regex, re.Pattern))


def compile_regex(value: Any, options: str | None = None) -> re.Pattern[str]:
    """Compile a Regex, re.Pattern or pattern string (with optional $options)."""
    extra = options_to_flags(options) if options else 0
    if isinstance(value, re.Pattern):
        return _compile(value.pattern, (value.flags & ~re.UNICODE) | extra)
    if isinstance(value, Regex):
        flags = value.flags if isinstance(value.flags, int) else options_to_flags(value.flags)
        return _compile(value.pattern, flags | extra)
    if isinstance(value, str):
        return _compile(value, extra)
    raise bad_value("$regex has to be a string")

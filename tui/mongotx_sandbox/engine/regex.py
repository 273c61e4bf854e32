"""Regular expressions: bson.regex.Regex / re.Pattern / $regex+$options compiled with PCRE2.

MongoDB (6.1+) runs user regexes with PCRE2 (server: util/pcre_util.cpp flagsToOptions, which
always sets UTF and maps i/m/s/x, ignoring u; util/pcre.cpp). We use the same engine through
the `pcre2` bindings, so syntax (lookbehind, backreferences, possessive quantifiers ...) and
compile errors are PCRE2's, and a catastrophic pattern stops at PCRE2's match limit instead of
running for ever. The query matcher counts any match error, the limit included, as "no match"
(server: db/matcher/expression_leaf.cpp RegexMatchExpression::matchesSingleElement tests the
MatchData, which is false on error); `RegexPattern.search` does the same.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from bson.regex import Regex

from .errors import EngineError, bad_value, err

_FLAG_LETTERS = (
    (re.IGNORECASE, "i"),
    (re.MULTILINE, "m"),
    (re.DOTALL, "s"),
    (re.VERBOSE, "x"),
)
_LETTER_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_PCRE2_NAMES = (
    (re.IGNORECASE, "IGNORECASE"),
    (re.MULTILINE, "MULTILINE"),
    (re.DOTALL, "DOTALL"),
    (re.VERBOSE, "VERBOSE"),
)
# util/pcre.cpp kMaxPatternLength; PCRE2 refuses a longer pattern with this message.
_MAX_PATTERN_BYTES = 32764
_TOO_LONG = "pattern string is longer than the limit set by the application"
_POSITION_PREFIX = re.compile(r"^compilation failed at position \d+; ")


def _pcre2() -> Any:
    """The bindings, imported on the first regex (about 15 ms the workbench's cold start
    never needs)."""
    import pcre2

    return pcre2


class RegexPattern:
    """A compiled user regex; `search` answers whether it matches somewhere in a string."""

    __slots__ = ("_code", "flags", "pattern")

    def __init__(self, code: Any, pattern: str, flags: int) -> None:
        self._code = code
        self.pattern = pattern
        self.flags = flags

    def search_or_raise(self, text: str) -> bool:
        """search, with a match-time error (the match limit) raised as the bindings' own."""
        return self._code.search(text) is not None

    def search(self, text: str) -> bool:
        try:
            return self._code.search(text) is not None
        except (_pcre2().LibraryError, UnicodeError):
            # The match limit (or another match-time error): no match, as the server.
            return False


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
def _compile(pattern: str, flags: int) -> RegexPattern:
    if "\x00" in pattern:
        # RegexMatchExpression's constructor refuses it with BadValue.
        raise bad_value("Regular expression cannot contain an embedded null byte")
    if len(pattern.encode("utf-8", "surrogatepass")) > _MAX_PATTERN_BYTES:
        raise err(51091, f"Regular expression is invalid: {_TOO_LONG}")
    pcre2 = _pcre2()
    # UTF as the server sets it; ASCII keeps UCP off, as the server does (\w, \d, [[:alpha:]]
    # stay ASCII while caseless matching still folds non-ASCII letters).
    options = pcre2.UNICODE | pcre2.ASCII
    for bit, name in _PCRE2_NAMES:
        if flags & bit:
            options |= getattr(pcre2, name)
    try:
        code = pcre2.compile(pattern, options)
    except pcre2.PatternError as exc:
        # MongoDB: 51091 "Regular expression is invalid: " + PCRE2's own message.
        reason = _POSITION_PREFIX.sub("", str(exc.args[0]) if exc.args else "")
        raise err(51091, f"Regular expression is invalid: {reason}") from None
    except (pcre2.LibraryError, UnicodeError, ValueError):
        raise err(51091, "Regular expression is invalid: invalid UTF string") from None
    return RegexPattern(code, pattern, flags)


def expression_search(op: str, text: Any, pattern: Any, options: Any) -> bool:
    """$regexMatch's answer for evaluated arguments (None: null or missing), with the
    server's checks in its order (server: db/exec/expression/evaluate_regex.cpp,
    extractRegexAndOptions, compile, extractInputField, execute)."""
    if pattern is not None and not isinstance(pattern, str | Regex):
        raise err(51105, f"{op} needs 'regex' to be of type string or regex")
    if options is not None and not isinstance(options, str):
        raise err(51106, f"{op} needs 'options' to be of type string")
    flags = ""
    if isinstance(pattern, Regex):
        flags = flags_to_string(pattern.flags)
        if options is not None and flags:
            raise err(
                51107, f"{op}: found regex option(s) specified in both 'regex' and 'option' fields"
            )
        pattern = pattern.pattern
    if options is not None:
        flags = options
    if pattern is not None and "\x00" in pattern:
        raise err(51109, f"{op}: regular expression cannot contain an embedded null byte")
    if "\x00" in flags:
        raise err(51110, f"{op}: regular expression options cannot contain an embedded null byte")
    compiled = None
    if pattern is not None:
        for letter in flags:
            if letter not in _LETTER_FLAGS and letter != "u":
                raise err(51108, f"{op} invalid flag in regex options: {letter}")
        try:
            compiled = _compile(pattern, options_to_flags(flags))
        except EngineError as exc:
            reason = exc.message.removeprefix("Regular expression is invalid: ")
            raise err(51111, f"Invalid Regex in {op}: {reason}") from None
    if text is not None and not isinstance(text, str):
        raise err(51104, f"{op} needs 'input' to be of type string")
    if text is None or compiled is None:
        return False
    try:
        return compiled.search_or_raise(text)
    except _pcre2().LibraryError as exc:
        # Unlike the query matcher, the expression reports the match limit as an error.
        raise err(
            51156,
            f"Error occurred while executing the regular expression in {op}. Result code: {exc}",
        ) from None


def is_regex(value: Any) -> bool:
    return isinstance(value, (Regex, re.Pattern))


def compile_regex(value: Any, options: str | None = None) -> RegexPattern:
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

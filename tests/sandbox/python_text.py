"""Recognise Python's own words in a reply: exception names, type names, interpreter phrases."""

from __future__ import annotations

import re

PYTHON_TEXT = re.compile(
    r"Traceback|Error:|Exception|NoneType|object has no attribute|not subscriptable|"
    r"not iterable|unhashable|invalid literal for int|cannot convert float|positional argument|"
    r"unexpected keyword|unsupported operand|index out of range|"
    r"'(?:str|dict|list|tuple|float|bytes|Int64|Code|Binary|DatetimeMS|ObjectId|NoneType)'"
    r"(?: object)?|\btype (?:str|dict|list|float|NoneType)\b"
)


def python_text(message: str) -> str | None:
    """The first piece of Python text in `message`, or None."""
    found = PYTHON_TEXT.search(message)
    return found.group(0) if found else None

"""What changed in a document: its fields with their old and new values, for the lanes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING: Any = object()  # a field one side does not have


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: dotted path, value before (MISSING: added), value after
    (MISSING: removed)."""

    path: str
    old: Any
    new: Any


def _same(a: Any, b: Any) -> bool:
    """Equal as BSON values: 1 and True differ, and so do 1 and 1.0's types' orders."""
    from .literals import format_value

    return type(a) is type(b) and format_value(a) == format_value(b)


def field_changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[FieldChange]:
    """The fields of `new` that differ from `old`, in `new`'s order, then the removed ones.
    Sub-documents present on both sides are compared field by field (`address.city`)."""
    out: list[FieldChange] = []
    for key, value in new.items():
        path = f"{prefix}{key}"
        if key not in old:
            out.append(FieldChange(path, MISSING, value))
        elif isinstance(value, dict) and isinstance(old[key], dict):
            out.extend(field_changes(old[key], value, path + "."))
        elif not _same(old[key], value):
            out.append(FieldChange(path, old[key], value))
    out.extend(FieldChange(f"{prefix}{k}", v, MISSING) for k, v in old.items() if k not in new)
    return out


def change_words(change: FieldChange) -> str:
    """`balance: 100 → 90`; an added field `+note: 'x'`, a removed one `-note: 'x'`."""
    from .literals import format_short

    if change.old is MISSING:
        return f"+{change.path}: {format_short(change.new)}"
    if change.new is MISSING:
        return f"-{change.path}: {format_short(change.old)}"
    return f"{change.path}: {format_short(change.old)} → {format_short(change.new)}"


def doc_diffs(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Each document that differs between two reads, by _id, as one line:
    `~ 'alice' balance: 100 → 90`, `+ 'carol' {…}` (only after), `- 'bob'` (only before)."""
    from .literals import format_short, format_value

    old = {format_value(d.get("_id")): d for d in before}
    new = {format_value(d.get("_id")): d for d in after}
    out: list[str] = []
    for key, doc in new.items():
        shown = format_short(doc.get("_id"))
        if key not in old:
            rest = {k: v for k, v in doc.items() if k != "_id"}
            out.append(f"+ {shown} {format_short(rest)}")
        else:
            changes = field_changes(old[key], doc)
            if changes:
                out.append(f"~ {shown} " + ", ".join(change_words(c) for c in changes))
    out.extend(f"- {format_short(d.get('_id'))}" for k, d in old.items() if k not in new)
    return out

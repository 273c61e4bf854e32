"""Operation fields in a scenario file: YAML values or mongosh-literal text, checked like the
workbench editor checks them (model/ops.validate_field)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..model.literals import format_short
from ..model.ops import FIELDS, PLAIN, SWITCHES, OpKind, validate_field
from .yamlmarks import plain

if TYPE_CHECKING:
    from .yamlmarks import Located, Problems


def to_text(name: str, value: Any) -> str:
    """What the editor would hold for this field: strings are literals already."""
    if isinstance(value, str):
        return value
    if name in SWITCHES:
        return "true" if value else "false"
    if name in PLAIN:
        return str(value)
    return format_short(_dates(plain(value)))


def bson_value(value: Any) -> Any:
    """A YAML value as BSON takes it: plain dicts and lists, dates as UTC datetimes."""
    return _dates(plain(value))


def _dates(value: Any) -> Any:
    """YAML reads 2024-01-01 as a date; BSON wants a datetime."""
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value


def field_texts(kind: OpKind, data: Located, p: Problems) -> dict[str, str] | None:
    texts: dict[str, str] = {}
    ok = True
    for name in FIELDS[kind]:
        if name not in data:
            continue
        text = to_text(name, data[name])
        _, err = validate_field(name, text)
        if err is not None:
            line = data.line_of(name) + (err.line - 1 if isinstance(data[name], str) else 0)
            p.add(line, f"{kind.value} {name}: {err.message}")
            ok = False
        texts[name] = text
    return texts if ok else None

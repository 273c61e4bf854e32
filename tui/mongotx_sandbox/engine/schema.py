"""$jsonSchema: a subset (bsonType/type, required, properties, enum, minimum/maximum,
minLength/maxLength, minItems/maxItems, items, additionalProperties, pattern).

Source: manual, reference/operator/query/jsonSchema ("Available Keywords").
"""

from __future__ import annotations

from typing import Any

from .compare import MISSING, TYPE_ALIASES, bson_type_code, compare_values, is_number
from .errors import bad_value
from .regex import compile_regex

_JSON_TYPES = {
    "object": {3},
    "array": {4},
    "number": {1, 16, 18, 19},
    "boolean": {8},
    "string": {2},
    "null": {10},
}
_SUPPORTED = {
    "bsonType",
    "type",
    "required",
    "properties",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "items",
    "additionalProperties",
    "pattern",
    "title",
    "description",
}


def _type_ok(value: Any, schema: dict[str, Any]) -> bool:
    code = bson_type_code(value)
    if "bsonType" in schema:
        names = schema["bsonType"]
        names = names if isinstance(names, list) else [names]
        allowed: set[int] = set()
        for name in names:
            if name == "number":
                allowed |= {1, 16, 18, 19}
            elif name in TYPE_ALIASES:
                allowed.add(TYPE_ALIASES[name])
            else:
                raise bad_value(f"Unknown type name alias: {name}")
        if code not in allowed:
            return False
    if "type" in schema:
        names = schema["type"]
        names = names if isinstance(names, list) else [names]
        allowed = set()
        for name in names:
            if name not in _JSON_TYPES:
                raise bad_value(f"Unknown $jsonSchema type: {name}")
            allowed |= _JSON_TYPES[name]
        if code not in allowed:
            return False
    return True


def _valid(value: Any, schema: Any) -> bool:
    if not isinstance(schema, dict):
        raise bad_value("$jsonSchema must be an object")
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise bad_value(f"Unsupported $jsonSchema keyword: {sorted(unknown)[0]}")
    if not _type_ok(value, schema):
        return False
    if "enum" in schema and not any(compare_values(value, e) == 0 for e in schema["enum"]):
        return False
    if is_number(value):
        if "minimum" in schema:
            c = compare_values(value, schema["minimum"])
            if c < 0 or (c == 0 and schema.get("exclusiveMinimum")):
                return False
        if "maximum" in schema:
            c = compare_values(value, schema["maximum"])
            if c > 0 or (c == 0 and schema.get("exclusiveMaximum")):
                return False
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return False
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return False
        if "pattern" in schema and not compile_regex(schema["pattern"]).search(value):
            return False
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return False
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return False
        if isinstance(schema.get("items"), dict) and not all(
            _valid(v, schema["items"]) for v in value
        ):
            return False
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                return False
        props = schema.get("properties", {})
        for name, sub in props.items():
            v = value.get(name, MISSING)
            if v is not MISSING and not _valid(v, sub):
                return False
        extra = schema.get("additionalProperties", True)
        if extra is False and any(k not in props for k in value):
            return False
        if isinstance(extra, dict) and not all(
            _valid(v, extra) for k, v in value.items() if k not in props
        ):
            return False
    return True


def matches_schema(schema: Any, doc: dict[str, Any]) -> bool:
    return _valid(doc, schema)

"""Projections: find() projections and the $project stage.

Source: manual, "Project Fields to Return from Query" and reference/operator/projection/*:
inclusion and exclusion cannot be mixed (except _id), _id is included unless excluded, dotted
paths reach into embedded documents and arrays of documents, $slice keeps the rest of the
document, $elemMatch and the positional `field.$` return the first matching element, $meta is
accepted and ignored here. Since 4.4 non-boolean/non-numeric values are aggregation expressions
(computed fields), and included fields keep the document's order.
"""

from __future__ import annotations

from typing import Any

from bson.decimal128 import Decimal128

from ._lazy import lib as _lib
from .compare import MISSING, is_number
from .errors import bad_value, err
from .match import matches, positional_index, value_matches
from .paths import deep_copy

INCLUDE = "include"
EXCLUDE = "exclude"


class _Special:
    """A leaf that is neither a plain inclusion nor exclusion."""

    def __init__(self, kind: str, arg: Any) -> None:
        self.kind = kind  # "slice", "elemMatch", "positional", "computed", "meta"
        self.arg = arg


def _is_bool_like(value: Any) -> bool:
    return isinstance(value, bool) or is_number(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, Decimal128):
        return value.to_decimal() != 0
    return bool(value)


def _flatten(
    spec: dict[str, Any], prefix: str, out: list[tuple[str, Any]], aggregate: bool
) -> None:
    for key, value in spec.items():
        if not isinstance(key, str):
            raise bad_value("projection field names must be strings")
        path = f"{prefix}{key}"
        if key == "" or path.endswith(".") or ".." in path:
            raise bad_value(f"FieldPath field names may not be empty strings: '{path}'")
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(k, str) and k[:1] != "$" for k in value)
        ):
            _flatten(value, path + ".", out, aggregate)
        else:
            out.append((path, value))


def parse_projection(projection: dict[str, Any], aggregate: bool = False) -> tuple[str, dict]:
    """-> (mode, tree). mode is INCLUDE or EXCLUDE; tree maps names to nodes or subtrees."""
    if not isinstance(projection, dict):
        raise bad_value("projection must be an object")
    flat: list[tuple[str, Any]] = []
    _flatten(projection, "", flat, aggregate)
    mode: str | None = None
    id_rule: Any = None
    leaves: list[tuple[list[str], Any]] = []
    for path, value in flat:
        node: Any
        if path.endswith(".$"):
            if aggregate:
                raise err(16410, "FieldPath field names may not start with '$'.")
            node = _Special("positional", None)
            path = path[:-2]
            kind = INCLUDE
        elif _is_bool_like(value):
            node = INCLUDE if _truthy(value) else EXCLUDE
            kind = node
        elif isinstance(value, dict) and len(value) == 1 and "$slice" in value and not aggregate:
            node = _Special("slice", _parse_slice(value["$slice"]))
            kind = "neutral"
        elif (
            isinstance(value, dict) and len(value) == 1 and "$elemMatch" in value and not aggregate
        ):
            if "." in path:
                raise bad_value("Cannot use $elemMatch projection on a nested field.")
            if not isinstance(value["$elemMatch"], dict):
                raise bad_value("elemMatch: Invalid argument, object required.")
            node = _Special("elemMatch", value["$elemMatch"])
            kind = INCLUDE
        elif isinstance(value, dict) and len(value) == 1 and "$meta" in value:
            node = _Special("meta", value["$meta"])
            kind = "neutral"
        elif isinstance(value, dict) and not value:
            raise bad_value(
                f"An empty sub-projection is not a valid value. Found empty object at path {path}"
            )
        else:
            node = _Special("computed", value)
            kind = INCLUDE
        if path == "_id" and node in (INCLUDE, EXCLUDE):
            id_rule = node
            leaves.append((["_id"], node))
            continue
        if kind in (INCLUDE, EXCLUDE):
            if mode is None:
                mode = kind
            elif mode != kind:
                if kind == EXCLUDE:
                    raise err(31254, f"Cannot do exclusion on field {path} in inclusion projection")
                if isinstance(node, _Special) and node.kind == "computed":
                    raise err(
                        31252,
                        f"Cannot use expression other than $meta in exclusion projection: {path}",
                    )
                raise err(31253, f"Cannot do inclusion on field {path} in exclusion projection")
        leaves.append((path.split("."), node))
    if mode is None:
        # {_id: 1} alone is an inclusion projection returning only _id.
        mode = INCLUDE if id_rule == INCLUDE else EXCLUDE
    tree: dict[str, Any] = {}
    for parts, node in leaves:
        cur = tree
        for i, part in enumerate(parts[:-1]):
            nxt = cur.get(part)
            if nxt is None:
                nxt = cur[part] = {}
            elif not isinstance(nxt, dict):
                raise err(
                    31250,
                    f"Path collision at {'.'.join(parts)} remaining portion "
                    f"{'.'.join(parts[i + 1 :])}",
                )
            cur = nxt
        last = parts[-1]
        if last in cur:
            raise err(31250, f"Path collision at {'.'.join(parts)}")
        cur[last] = node
    if id_rule is None and "_id" not in tree:
        tree["_id"] = INCLUDE if mode == INCLUDE else None
        if tree["_id"] is None:
            del tree["_id"]
    return mode, tree


def _parse_slice(arg: Any) -> tuple[int, int | None]:
    if is_number(arg) and not isinstance(arg, Decimal128):
        return (int(arg), None)
    if (
        isinstance(arg, list)
        and len(arg) == 2
        and all(is_number(a) and not isinstance(a, Decimal128) for a in arg)
    ):
        if arg[1] <= 0:
            raise err(
                28724,
                "First argument to $slice must be an array, Second argument to "
                "$slice must be a positive number",
            )
        return (int(arg[0]), int(arg[1]))
    raise bad_value("$slice only supports numbers and [skip, limit] arrays")


def _slice(value: Any, spec: tuple[int, int | None]) -> Any:
    if not isinstance(value, list):
        return value
    n, limit = spec
    if limit is None:
        return value[:n] if n >= 0 else value[max(0, len(value) + n) :]
    skip = n if n >= 0 else max(0, len(value) + n)
    return value[skip : skip + limit]


def apply_projection(
    doc: dict[str, Any],
    projection: dict[str, Any] | None,
    *,
    query: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    aggregate: bool = False,
) -> dict[str, Any]:
    if not projection:
        if aggregate and projection is not None:
            raise err(
                51272,
                "Invalid $project :: caused by :: projection specification must "
                "have at least one field",
            )
        return deep_copy(doc)
    mode, tree = parse_projection(projection, aggregate)
    ctx = _Ctx(doc, query, variables)
    if mode == INCLUDE:
        out = _include(doc, tree, ctx, [])
    else:
        out = _exclude(doc, tree, ctx, [])
    return out


class _Ctx:
    def __init__(self, root, query, variables) -> None:
        self.root = root
        self.query = query
        self.variables = variables


def _include(value: dict[str, Any], tree: dict[str, Any], ctx: _Ctx, prefix: list[str]) -> dict:
    out: dict[str, Any] = {}
    late: list[tuple[str, Any]] = []
    for k, v in value.items():
        node = tree.get(k)
        if node is None or node == EXCLUDE:
            continue
        if node == INCLUDE:
            out[k] = deep_copy(v)
        elif isinstance(node, dict):
            sub = _include_sub(v, node, ctx, [*prefix, k])
            if sub is not MISSING:
                out[k] = sub
        elif node.kind == "slice":
            out[k] = deep_copy(_slice(v, node.arg))
        elif node.kind == "elemMatch":
            if isinstance(v, list):
                for e in v:
                    if (isinstance(e, dict) and matches(node.arg, e)) or (
                        not isinstance(e, dict) and _value_elem_match(node.arg, e)
                    ):
                        late.append((k, [deep_copy(e)]))
                        break
        elif node.kind == "positional":
            out[k] = _positional(v, [*prefix, k], ctx)
    for k, node in tree.items():
        if isinstance(node, _Special) and node.kind == "computed":
            result = _lib.eval_expression(node.arg, ctx.root, ctx.variables)
            if result is not MISSING:
                out[k] = result
        elif isinstance(node, dict) and k not in value and _has_computed(node):
            sub = _include({}, node, ctx, [*prefix, k])
            if sub:
                out[k] = sub
    for k, v in late:
        out[k] = v
    return out


def _has_computed(tree: dict[str, Any]) -> bool:
    for node in tree.values():
        if isinstance(node, dict) and _has_computed(node):
            return True
        if isinstance(node, _Special) and node.kind == "computed":
            return True
    return False


def _include_sub(v: Any, node: dict[str, Any], ctx: _Ctx, prefix: list[str]) -> Any:
    if isinstance(v, dict):
        return _include(v, node, ctx, prefix)
    if isinstance(v, list):
        out = []
        for e in v:
            if isinstance(e, (dict, list)):
                sub = _include_sub(e, node, ctx, prefix)
                if sub is not MISSING:
                    out.append(sub)
        return out
    if _has_computed(node):
        return _include({}, node, ctx, prefix)
    return MISSING


def _exclude(value: dict[str, Any], tree: dict[str, Any], ctx: _Ctx, prefix: list[str]) -> dict:
    out: dict[str, Any] = {}
    for k, v in value.items():
        node = tree.get(k)
        if node is None or node == INCLUDE:
            out[k] = deep_copy(v)
        elif node == EXCLUDE:
            continue
        elif isinstance(node, dict):
            out[k] = _exclude_sub(v, node, ctx, [*prefix, k])
        elif node.kind == "slice":
            out[k] = deep_copy(_slice(v, node.arg))
        else:
            out[k] = deep_copy(v)
    return out


def _exclude_sub(v: Any, node: dict[str, Any], ctx: _Ctx, prefix: list[str]) -> Any:
    if isinstance(v, dict):
        return _exclude(v, node, ctx, prefix)
    if isinstance(v, list):
        return [_exclude_sub(e, node, ctx, prefix) for e in v]
    return deep_copy(v)


def _value_elem_match(cond: dict[str, Any], value: Any) -> bool:

    first = next(iter(cond), "")
    if first[:1] == "$" and first not in ("$and", "$or", "$nor"):
        return value_matches(cond, value)
    return False


def _positional(v: Any, parts: list[str], ctx: _Ctx) -> Any:
    if not isinstance(v, list):
        return deep_copy(v)
    try:
        idx = positional_index(ctx.root, ".".join(parts), ctx.query)
    except ValueError:
        raise err(
            51246,
            "Executor error during find command :: caused by :: positional operator '.$' "
            "couldn't find a matching element in the array",
        ) from None
    return [deep_copy(v[idx])]

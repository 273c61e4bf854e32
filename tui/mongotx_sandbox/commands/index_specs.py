"""createIndexes' specs: parsing, and matching against the indexes a collection has."""

from __future__ import annotations

from typing import Any

from ..errors import CommandError
from ..store import Collection, Index
from .index_options import check_options, is_text_key

# Fields an `{_id: 1}` spec may carry; any other is refused rather than ignored
# [srv:db/catalog/index_key_validate.cpp validateIdIndexSpec, allowedIdIndexFieldNames].
_ID_SPEC_FIELDS = frozenset({"key", "name", "v", "ns", "collation"})


def index_name(key: dict[str, Any]) -> str:
    """The name the shells and drivers give an index: `a_1_b_-1`."""
    return "_".join(f"{k}_{v}" for k, v in key.items())


def is_id_key(key: dict[str, Any]) -> bool:
    """`{_id: 1}` (any numeric 1): the collection's own `_id_` index, whatever name the
    client chose — createIndexes validates such a spec as the _id index's
    [srv:db/commands/create_indexes.cpp parseAndValidateIndexSpecs, isIdIndexPattern]."""
    return list(key) == ["_id"] and key["_id"] == 1 and not isinstance(key["_id"], bool)


def parse_spec(spec: Any) -> tuple[dict[str, Any], str]:
    """The key and name of one spec, refused as mongod refuses a malformed one."""
    if not isinstance(spec, dict) or not isinstance(spec.get("key"), dict) or not spec["key"]:
        raise CommandError(
            9, "The 'key' field of an index specification must be a non-empty object"
        )
    key = dict(spec["key"])
    iname = spec.get("name") or index_name(key)
    if type(iname) is not str:  # Code is a str subclass to Python, javascript to mongod
        raise CommandError(14, "index name must be a string")
    if is_id_key(key):
        extra = sorted(set(spec) - _ID_SPEC_FIELDS)
        if extra:
            raise CommandError(
                197,
                f"The field '{extra[0]}' is not valid for an _id index specification. "
                f"Specification: {spec}",
            )
    return key, iname


def prepare_spec(spec: Any) -> dict[str, Any]:
    """One spec as mongod stores it: checked, named, a text index's key rewritten."""
    _key, iname = parse_spec(spec)
    return check_options({**spec, "name": iname})


def already_exists(coll: Collection, spec: dict[str, Any], key: dict[str, Any], iname: str) -> bool:
    """True when `coll` has this index already (createIndexes then skips it); raises when
    an index of that name or key exists with other options."""
    if is_id_key(key):
        # mongod answers "all indexes already exist" for `{_id: 1}` named `_id_1` too.
        return True
    existing: Index | None = coll.indexes.get(iname)
    unique = bool(spec.get("unique", False))
    if existing is not None:
        if existing.key != key or existing.unique != unique:
            raise CommandError(
                86 if existing.key != key else 85,
                f"An existing index has the same name as the requested index. Requested "
                f"index: {spec}, existing index: {existing.spec()}",
            )
        if _text_options(existing.options) != _text_options(spec):
            raise CommandError(
                85,
                "An equivalent index already exists with the same name but different options. "
                f"Requested index: {spec}, existing index: {existing.spec()}",
            )
        return True
    same_key = next((i for i in coll.indexes.values() if i.key == key), None)
    if same_key is None:
        text = next((i for i in coll.indexes.values() if is_text_key(i.key)), None)
        if text is not None and is_text_key(key):
            # [srv:db/catalog/index_catalog_impl.cpp _doesSpecConflictWithExisting]
            raise CommandError(
                67,
                "only one text index per collection allowed, found existing text index "
                f'"{text.name}"',
            )
        return False
    if same_key.unique != unique:
        raise CommandError(85, f"Index already exists with a different name: {same_key.name}")
    if _text_options(same_key.options) != _text_options(spec):
        # A text index's weights and languages are options of the one `_fts` key
        # [srv:db/index/index_descriptor.cpp compareIndexOptions].
        raise CommandError(
            85,
            "An equivalent index already exists with a different name and options. "
            f"Requested index: {spec}, existing index: {same_key.spec()}",
        )
    return True


def _text_options(options: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(options.get(k) for k in ("weights", "default_language", "language_override"))

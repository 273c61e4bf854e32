"""Safe YAML loading that remembers line numbers of mappings and their keys, within limits.

The limits (FORMAT.md lists them) keep a hostile or broken file from exhausting the stack,
the memory or the user's patience: how deep collections nest (aliases included), how many
values aliases may stand for in all (a few hundred bytes of nested aliases can stand for
millions of values), and how long one string may be. The file's size is checked by the
loader before the text is read.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_DEPTH = 32  # nested mappings/sequences, counting the file's own top-level mapping
MAX_ALIAS_VALUES = 10_000  # values that aliases stand for, in all
MAX_STRING_CHARS = 512 * 1024  # one scalar
_SURROGATE = re.compile("[\ud800-\udfff]")


class Located(dict):  # type: ignore[type-arg]
    """A mapping from YAML with `line` (its own) and `key_lines` (each key's line)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):  # type: ignore[type-arg]
    """A sequence from YAML with `line` and `item_lines` (each item's line)."""

    line: int = 0
    item_lines: list[int]


class YamlProblem(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses, while composing, what would go past the limits.

    PyYAML's composer returns the anchored node itself for an alias, so the tree of nodes
    stays small whatever aliases stand for; each alias is measured (values, height) on that
    shared node, with the measures cached per node, before anything is built from it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0  # collections open around the node being composed
        self.open_anchors: set[str] = set()  # anchors whose collection is being composed
        self.alias_values = 0
        self.measures: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                raise YamlProblem(
                    line,
                    f"alias *{event.anchor} is inside its own anchor &{event.anchor} "
                    "(a structure that contains itself)",
                )
            node = super().compose_node(parent, index)
            values, height = self.measure(node)
            if self.depth + height > MAX_DEPTH:
                raise YamlProblem(
                    line, f"alias *{event.anchor} nests values deeper than {MAX_DEPTH} levels"
                )
            self.alias_values += values
            if self.alias_values > MAX_ALIAS_VALUES:
                raise YamlProblem(
                    line,
                    f"aliases stand for more than {MAX_ALIAS_VALUES:,} values in all "
                    f"(*{event.anchor} alone for {values:,}); write the values out instead",
                )
            return node
        if isinstance(event, yaml.ScalarEvent):
            if len(event.value) > MAX_STRING_CHARS:
                raise YamlProblem(
                    line,
                    f"a string of {len(event.value):,} characters; the limit is "
                    f"{MAX_STRING_CHARS:,}",
                )
            if (bad := _SURROGATE.search(event.value)) is not None:
                raise YamlProblem(
                    line,
                    f"{ascii(bad.group())[1:-1]} is half of a surrogate pair, not a character "
                    "(MongoDB strings are UTF-8)",
                )
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            raise YamlProblem(line, f"nested deeper than {MAX_DEPTH} levels")
        anchor = getattr(event, "anchor", None)
        self.depth += 1
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.discard(anchor)  # type: ignore[arg-type]

    def measure(self, node: yaml.Node) -> tuple[int, int]:
        """(values, height) of a node with every alias in it expanded; height counts
        collections. Recursion is bounded: a composed node is at most MAX_DEPTH high."""
        known = self.measures.get(id(node))
        if known is not None:
            return known
        values, height = 1, 0
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            v, h = self.measure(child)
            values += v
            height = max(height, h)
        if children or not isinstance(node, yaml.ScalarNode):
            height += 1
        self.measures[id(node)] = (values, height)
        return values, height


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    out = Located()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in out:
            raise YamlProblem(key_node.start_mark.line + 1, f"duplicate key {key!r}")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(text: str) -> Any:
    """Parse YAML; raise YamlProblem(line, problem) on syntax errors."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise YamlProblem(line, problem or "not valid YAML") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, str(exc)) from None


def plain(value: Any) -> Any:
    """Located containers back to plain dicts and lists (for BSON and output)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value

"""Safe YAML loading that remembers line numbers of mappings and their keys, within limits.

The limits (FORMAT.md lists them) keep a hostile or broken file from exhausting the stack,
the memory or the user's patience: how deep collections nest (aliases included), how many
values aliases may stand for in all (a few hundred bytes of nested aliases can stand for
millions of values), and how long one string may be. They are checked on the parser's
events, before the composer (which recurses) or the constructor see the file. The file's
size is checked by the loader before the text is read.
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


# libyaml's parser (PyYAML's C extension) when it is there: four times faster on a dense
# file at the size limit than the pure-Python one. Both give the same events and marks.
_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[misc,valid-type]
    """SafeLoader (libyaml's when available) building Located mappings and lists."""


class _Measure:
    """An open collection while the events stream by: values in it (aliases expanded) and
    its height (collections, itself included)."""

    __slots__ = ("anchor", "height", "values")

    def __init__(self, anchor: str | None) -> None:
        self.anchor = anchor
        self.values = 1
        self.height = 1


def check_limits(text: str) -> None:
    """Go through the parser's events once, before anything is built, and refuse what
    would go past a limit: nesting (an alias counts as deep as what it stands for), values
    that aliases stand for in all, an alias inside its own anchor, long strings and lone
    surrogates. No recursion: the composer and constructor only see a file that passed."""
    stack: list[_Measure] = []
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, height), once closed
    alias_values = 0

    def add(values: int, height: int) -> None:
        if stack:
            stack[-1].values += values
            stack[-1].height = max(stack[-1].height, height + 1)

    for event in yaml.parse(text, Loader=_BASE):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise YamlProblem(
                    event.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels"
                )
            stack.append(_Measure(event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            done = stack.pop()
            if done.anchor is not None:
                anchors[done.anchor] = (done.values, done.height)
            add(done.values, done.height)
        elif isinstance(event, yaml.ScalarEvent):
            _check_string(event)
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            add(1, 0)
        elif isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1
            name = event.anchor
            if any(m.anchor == name for m in stack):
                raise YamlProblem(
                    line,
                    f"alias *{name} is inside its own anchor &{name} "
                    "(a structure that contains itself)",
                )
            if name not in anchors:
                continue  # undefined: the composer says so, with the line
            values, height = anchors[name]
            if len(stack) + height > MAX_DEPTH:
                raise YamlProblem(
                    line, f"alias *{name} nests values deeper than {MAX_DEPTH} levels"
                )
            alias_values += values
            if alias_values > MAX_ALIAS_VALUES:
                raise YamlProblem(
                    line,
                    f"aliases stand for more than {MAX_ALIAS_VALUES:,} values in all "
                    f"(*{name} alone for {values:,}); write the values out instead",
                )
            add(values, height)


def _check_string(event: yaml.ScalarEvent) -> None:
    line = event.start_mark.line + 1
    if len(event.value) > MAX_STRING_CHARS:
        raise YamlProblem(
            line,
            f"a string of {len(event.value):,} characters; the limit is {MAX_STRING_CHARS:,}",
        )
    if (bad := _SURROGATE.search(event.value)) is not None:
        raise YamlProblem(
            line,
            f"{ascii(bad.group())[1:-1]} is half of a surrogate pair, not a character "
            "(MongoDB strings are UTF-8)",
        )


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
    """Parse YAML within the limits; raise YamlProblem(line, problem) on syntax errors and
    on what goes past a limit."""
    try:
        check_limits(text)
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        if "maximum nesting depth" in problem:  # libyaml's own limit (1,000), past ours
            problem = f"nested deeper than {MAX_DEPTH} levels"
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


class Problems:
    """What is wrong with a scenario file, each with its line."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, problem: str) -> None:
        self.items.append((line, problem))

    def __bool__(self) -> bool:
        return bool(self.items)

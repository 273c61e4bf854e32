"""Exported scripts are data plus our code: scenario files whose every field holds Python
source are exported and the scripts run against a real sandbox; no field's code runs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from mongotx_tui.scenario.export import export_script
from mongotx_tui.scenario.loader import load_scenario


def payloads(marker: Path) -> list[str]:
    """Python that creates `marker` (a name relative to the script's directory, short
    enough for a session name), wrapped to break out of every quoting we might use."""
    touch = f"__import__('pathlib').Path({marker.name!r}).touch()"
    touch2 = touch.replace("'", '"')
    return [
        f'x"); {touch2}; ("',
        f"x'); {touch}; ('",
        f'x", {touch2}, "',
        f"x\\\\'), {touch}, ('",
        f'x"""; {touch2}; """',
        f"x'''; {touch}; '''",
        f"x\n{touch}\n#",
        f"x\r{touch}\r#",
        f'x\\"; {touch2} #',
        f'x", j={touch2}, w="',
    ]


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar holding exactly `text`."""
    import json

    return json.dumps(text)


def hostile_steps(tmp: Path, only: int | None = None) -> tuple[str, list[Path]]:
    """A scenario whose step-level fields (names, concerns, notes, expectations, texts)
    each carry every payload (or only payload `only`), with a marker file per field."""
    markers: list[Path] = []

    def p(field: str, i: int) -> str:
        marker = tmp / f"m{len(markers)}"  # short: session names have at most 64 characters
        markers.append(marker)
        text = payloads(marker)[i if only is None else only]
        return text if text.isprintable() or field != "session" else payloads(marker)[i]

    n = len(payloads(tmp))
    # session names must be printable: with a payload that is not, they get the first one
    printable = [i for i in range(n) if payloads(tmp)[i if only is None else only].isprintable()]
    printable = printable or [0]
    sessions = {i: p("session", i) for i in printable}
    lines = [
        f"name: {yaml_str(p('name', 0))}",
        f"title: {yaml_str(p('title', 4))}",
        f"description: {yaml_str(p('description', 4) + ' ' + p('description', 6))}",
        f"verdict: {yaml_str(p('verdict', 5) + p('verdict', 8))}",
        "setup:",
        "  database: hostile",
        "  collection: test",
        "  documents: [{_id: 1, v: 0}]",
        "sessions:",
    ]
    for i, name in sessions.items():
        lines.append(f"  {yaml_str(name)}: {{writeConcern: {yaml_str(p('wc', i))}}}")
    lines.append("steps:")
    for i, name in sessions.items():
        s = yaml_str(name)
        lines += [
            f"  - session: {s}",
            "    action: startTransaction",
            f"    writeConcern: {yaml_str(p('txn-wc', i))}",
            f"    note: {yaml_str(p('note', i))}",
            f"  - session: {s}",
            "    action: update",
            f"    filter: {yaml_str('{_id: ' + repr(p('filter', i)) + '}')}",
            "    update: {$set: {v: 1}}",
            f"    note: {yaml_str(p('note2', i))}",
            f"  - session: {s}",
            "    action: commit",
            f"    error: {{code: 1, codeName: {yaml_str(p('codename', i))},"
            f" labels: [{yaml_str(p('label', i))}]}}",
        ]
    for i in range(n):
        lines += [
            "  - action: failPoint",
            "    mode: {times: 1}",
            f"    data: {{failCommands: [{yaml_str(p('failcommand', i))}], errorCode: 2}}",
            "  - action: failPoint",
            "    mode: 'off'",
            "    data: {failCommands: [find]}",
            f"  - session: {yaml_str(next(iter(sessions.values())))}",
            "    action: find",
            f"    filter: {{{yaml_str(p('key', i))}: {yaml_str(p('value', i))}}}",
        ]
    lines.append("  - session: " + yaml_str(next(iter(sessions.values()))))
    lines.append("    action: withTransaction")
    lines.append(f"    ops: [{{action: insert, document: {{_id: {yaml_str(p('doc', 1))}}}}}]")
    return "\n".join(lines) + "\n", markers


def hostile_setup(tmp: Path) -> tuple[str, list[Path]]:
    """Setup values (database, collections, documents, indexes, parameters) carrying code.
    The server refuses some of them; what matters is that nothing runs."""
    markers: list[Path] = []

    def p(field: str, i: int) -> str:
        marker = tmp / f"m{len(markers)}"
        markers.append(marker)
        return payloads(marker)[i]

    n = len(payloads(tmp))
    lines = [
        "name: setup",
        "description: d",
        "verdict: v",
        "sessions: [A]",
        "setup:",
        f"  database: {yaml_str(p('database', 0))}",
        "  collections:",
    ]
    for i in range(n):
        lines += [
            f"    {yaml_str(p('collection', i))}:",
            f"      documents: [{{_id: {yaml_str(p('id', i))}, {yaml_str(p('field', i))}: 1}}]",
            f"      indexes: [{{keys: {{{yaml_str(p('index', i))}: 1}}, name: {yaml_str(p('iname', i))}}}]",
        ]
    lines += [
        f"  parameters: {{{yaml_str(p('parameter', 2))}: {yaml_str(p('pvalue', 3))}}}",
        "steps:",
        "  - {session: A, action: findOne, filter: {_id: 1}}",
    ]
    return "\n".join(lines) + "\n", markers


@pytest.mark.parametrize("make", [hostile_steps, hostile_setup], ids=["steps", "setup"])
@pytest.mark.parametrize(
    "aio,with_txn", [(False, False), (True, False), (False, True)], ids=["sync", "async", "wt"]
)
def test_hostile_scenario_exports_run_no_code(
    make, aio: bool, with_txn: bool, tmp_path: Path, uri: str
) -> None:
    text, markers = make(tmp_path)
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path)
    code = export_script(scenario, aio=aio, with_transaction=with_txn)
    tree = ast.parse(code)  # it compiles
    docstring = ast.get_docstring(tree, clean=False) or ""
    assert " ".join(scenario.title.split()) in docstring  # the title is text in it, whole
    script = tmp_path / "hostile_export.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), uri],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert "SyntaxError" not in proc.stderr
    if make is hostile_steps:  # the whole scenario ran, to the final contents
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "final test: " in proc.stdout
    created = sorted(m.name for m in markers if m.exists())
    assert created == [], f"code from the scenario ran: {created}"
    assert len(markers) > 40


@pytest.mark.parametrize("only", range(len(payloads(Path("m")))))
def test_each_payload_alone_runs_no_code(only: int, tmp_path: Path, uri: str) -> None:
    """One payload in every field: a script that compiles must still run none of it."""
    text, markers = hostile_steps(tmp_path, only)
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    script = tmp_path / "hostile_export.py"
    script.write_text(export_script(load_scenario(path)), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), uri],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    created = sorted(m.name for m in markers if m.exists())
    assert created == [], f"code from the scenario ran: {created}"


def test_values_reach_the_script_unchanged(tmp_path: Path) -> None:
    """Strings with quotes, backslashes, control characters and a lone surrogate come out
    of the script's literals exactly as the file has them."""
    from mongotx_tui.scenario.pyliteral import PyLiteral

    values = ["plain", 'a"b', "a'b", "a'\"b", "back\\slash", "nl\nx", "\x00\x1b[2J", "\ud800"]
    lit = PyLiteral()
    for value in values:
        assert ast.literal_eval(lit(value)) == value
    assert ast.literal_eval(lit({"k\n": [1.5, None, True, "\u2028"]})) == {
        "k\n": [1.5, None, True, "\u2028"]
    }


def test_other_bson_values_are_literals_too() -> None:
    """Values a literal field can hold beyond JSON: each becomes an expression of constants
    and bson constructors that gives the same value back."""
    import datetime as dt
    import re

    from bson import (
        Binary,
        Code,
        DBRef,
        Decimal128,
        Int64,
        MaxKey,
        MinKey,
        ObjectId,
        Regex,
        Timestamp,
        json_util,
    )

    from mongotx_tui.scenario.pyliteral import PyLiteral

    values = [
        Int64(5),
        ObjectId("5f43a1b2c3d4e5f6a7b8c9d0"),
        Decimal128("1.5"),
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        b"\x00hello",
        Binary(b"\x01\x02", 4),
        Timestamp(1, 2),
        MinKey(),
        MaxKey(),
        Regex("^a", re.IGNORECASE),
        Code("function () {}"),
        DBRef("c", 1),
        float("nan"),
        float("-inf"),
    ]
    lit = PyLiteral()
    names = {
        "Int64": Int64, "ObjectId": ObjectId, "Decimal128": Decimal128, "datetime": dt,
        "Binary": Binary, "Timestamp": Timestamp, "MinKey": MinKey, "MaxKey": MaxKey,
        "json_util": json_util,
    }  # fmt: skip
    for value in values:
        source = lit(value)
        back = eval(source, {"__builtins__": {"float": float}}, names)
        if isinstance(value, float):
            assert repr(back) == repr(value)
        else:
            assert back == value and type(back) is type(value), (source, back)

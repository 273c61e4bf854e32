"""Pathological scenario files get a message naming the file and the problem, from `run` and
`export` alike, never a traceback; the limits (FORMAT.md) refuse them quickly. Timings are
printed (`pytest -s`), not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mongotx_tui.cli import main
from mongotx_tui.scenario.loader import MAX_FILE_BYTES, ScenarioError, load_scenario
from mongotx_tui.scenario.yamlmarks import MAX_ALIAS_VALUES, MAX_DEPTH, MAX_STRING_CHARS

MINI = """\
name: mini
description: d
setup: {database: limits, collection: test, documents: [{_id: 1, v: 1}]}
sessions: [A]
steps:
  - {session: A, action: findOne, filter: FILTER}
verdict: v
"""


def scenario_file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, capsys: pytest.CaptureFixture[str], *words: str) -> None:
    """`run` and `export` both exit 2 with a message naming the file and the problem."""
    for argv in (["run", str(path), "mongodb://127.0.0.1:1/"], ["export", str(path)]):
        t0 = time.perf_counter()
        assert main(argv) == 2
        took = time.perf_counter() - t0
        out = capsys.readouterr()
        assert "Traceback" not in out.err and out.out == ""
        assert str(path) in out.err, out.err
        for word in words:
            assert word in out.err, out.err
        print(f"\n{argv[0]} {path.name}: refused in {took * 1000:.0f} ms", file=sys.__stdout__)


def test_latin1_file_names_the_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cafe.yaml"
    path.write_bytes(MINI.replace("name: mini", "name: café").encode("latin-1"))
    refused(path, capsys, f"{path}:1:", "not UTF-8", "0xe9")


@pytest.mark.parametrize("depth", [200, 500, 2000])
def test_deep_yaml(depth: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = "{_id: " + "[" * depth + "1" + "]" * depth + "}"
    path = scenario_file(tmp_path, MINI.replace("FILTER", deep))
    refused(path, capsys, f"{path}:6:", f"nested deeper than {MAX_DEPTH} levels")


def test_deep_block_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = "".join(f"{'  ' * i}k:\n" for i in range(1, 600)) + "  " * 600 + "v: 1\n"
    path = scenario_file(tmp_path, MINI.replace("FILTER", "{_id: 1}") + "extra:\n" + block)
    refused(path, capsys, f"nested deeper than {MAX_DEPTH} levels")


def test_deep_filter_literal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    literal = '"{a: ' + "{b: " * 2000 + "1" + "}" * 2001 + '"'
    path = scenario_file(tmp_path, MINI.replace("FILTER", literal))
    refused(path, capsys, f"{path}:6:", f"nested more than {MAX_DEPTH} levels deep")


def test_values_at_the_depth_limit_run_and_export(
    tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The deepest file the limit lets through runs, and its export compiles and runs."""
    inner = MAX_DEPTH - 4  # the file's mapping, steps, the step and the filter itself
    value = "[" * inner + "1" + "]" * inner
    text = MINI.replace("FILTER", "{v: " + value + "}")
    text = text.replace("{_id: 1, v: 1}", "{_id: 1, v: " + value + "}")
    path = scenario_file(tmp_path, text)
    assert main(["run", str(path), uri]) == 0
    assert "1/1 steps as expected" in capsys.readouterr().out
    assert main(["export", str(path)]) == 0
    code = capsys.readouterr().out
    script = scenario_file(tmp_path, code, "deep.py")
    proc = subprocess.run(
        [sys.executable, str(script), uri], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "-> ok {'_id': 1, 'v': [[[[" in proc.stdout


def test_alias_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Aliases standing for 10^7 values (10^8 for the second file) in about 600 bytes."""
    for levels in (7, 8):
        lines = ["      a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in range(1, levels):
            lines.append(f"      a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
        text = MINI.replace("FILTER", "{_id: 1}").replace(
            "documents: [{_id: 1, v: 1}]}",
            "}\n  documents:\n    - _id: 1\n" + "\n".join(lines),
        )
        text = text.replace("setup: {database: limits, collection: test, }", "setup:")
        text = text.replace("setup:\n", "setup:\n  database: limits\n  collection: test\n")
        path = scenario_file(tmp_path, text, f"bomb{levels}.yaml")
        print(f"\n{path.name}: {path.stat().st_size} bytes", file=sys.__stdout__)
        refused(path, capsys, f"more than {MAX_ALIAS_VALUES:,} values")


def test_recursive_alias(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario_file(tmp_path, MINI.replace("FILTER", "&a {_id: [*a]}"))
    refused(path, capsys, f"{path}:6:", "inside its own anchor")


def test_big_file_and_long_string(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = MINI.replace("FILTER", "{_id: '" + "a" * 5_000_000 + "'}")
    refused(scenario_file(tmp_path, huge, "huge.yaml"), capsys, f"{MAX_FILE_BYTES:,} bytes")
    long = MINI.replace("FILTER", "{_id: '" + "a" * (MAX_STRING_CHARS + 1) + "'}")
    refused(scenario_file(tmp_path, long, "long.yaml"), capsys, f"limit is {MAX_STRING_CHARS:,}")


def test_fail_commands_must_be_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = MINI.replace("FILTER", "{_id: 1}").replace(
        "steps:\n", "steps:\n  - {action: failPoint, data: {failCommands: [5, null]}}\n"
    )
    path = scenario_file(tmp_path, text)
    refused(path, capsys, f"{path}:6:", "failCommands' must be a list of command names")


def test_too_many_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"S{i}" for i in range(1000)]
    steps = "".join(f"  - {{session: {n}, action: findOne, filter: {{_id: 1}}}}\n" for n in names)
    text = (
        f"name: many\ndescription: d\nsessions: [{', '.join(names)}]\nsteps:\n{steps}verdict: v\n"
    )
    path = scenario_file(tmp_path, text)
    refused(path, capsys, f"{path}:3:", "1000 sessions; a scenario has at most 16")


def test_sixteen_sessions_export_and_run(
    tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"S{i}" for i in range(16)]
    steps = "".join(
        f"  - {{session: {n}, action: startTransaction}}\n"
        f"  - {{session: {n}, action: findOne, filter: {{_id: 1}}, result: {{_id: 1, v: 1}}}}\n"
        f"  - {{session: {n}, action: commit}}\n"
        for n in names
    )
    text = MINI.split("sessions:")[0] + f"sessions: [{', '.join(names)}]\nsteps:\n{steps}"
    path = scenario_file(tmp_path, text + "verdict: v\n")
    for flags in ([], ["--async"], ["--with-transaction"]):
        assert main(["export", str(path), *flags]) == 0
        script = scenario_file(tmp_path, capsys.readouterr().out, "many.py")
        proc = subprocess.run(
            [sys.executable, str(script), uri], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.count("-> ok {'_id': 1") == 16


def test_lone_surrogate_in_yaml_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "\\ud800" in a YAML string is half a surrogate pair: no BSON string can hold it."""
    path = scenario_file(tmp_path, MINI.replace("FILTER", '{_id: "\\ud800"}'))
    refused(path, capsys, f"{path}:6:")
    with pytest.raises(ScenarioError) as refusal:
        load_scenario(path)
    # libyaml refuses the escape itself; PyYAML's pure-Python parser lets it through to us
    problem = refusal.value.problems[0][1]
    assert problem in (
        "while parsing a quoted scalar found invalid Unicode character escape code",
        "\\ud800 is half of a surrogate pair, not a character (MongoDB strings are UTF-8)",
    )


def test_lone_surrogate_in_a_literal_runs_and_exports(tmp_path: Path, uri: str) -> None:
    """Written as a literal's escape it reaches the run (which reports the driver's error
    as the step's outcome) and the script (as an escape), through real stdout."""
    text = MINI.replace("FILTER", "\"{_id: '\\\\ud800'}\"")
    path = scenario_file(tmp_path, text)
    cli = [sys.executable, "-m", "mongotx_tui"]
    for args in (["run", str(path), uri], ["run", str(path), uri, "--json"]):
        proc = subprocess.run([*cli, *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "\\ud800" in proc.stdout and "UnicodeEncodeError" in proc.stdout
    proc = subprocess.run([*cli, "export", str(path)], capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    code = proc.stdout.decode("utf-8")  # the script is UTF-8: the surrogate is an escape
    assert '{"_id": "\\ud800"}' in code
    compile(code, "surrogate.py", "exec")


def test_binary_values_run_and_export(
    tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MINI.replace("v: 1}", "v: !!binary aGVsbG8=}").replace(
        "FILTER", "{v: !!binary aGVsbG8=}, result: {_id: 1}"
    )
    path = scenario_file(tmp_path, text)
    assert main(["run", str(path), uri]) == 0
    assert "1/1 steps as expected" in capsys.readouterr().out
    assert main(["export", str(path)]) == 0
    script = scenario_file(tmp_path, capsys.readouterr().out, "binary.py")
    proc = subprocess.run(
        [sys.executable, str(script), uri], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "-> ok {'_id': 1, 'v': b'hello'}" in proc.stdout


@pytest.mark.parametrize(
    "target,kind",
    [("no-such-scenario", "scenario"), ("broken.yaml", "scenario"), ("p4", "connection")],
)
def test_run_json_always_prints_a_record(
    target: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if target.endswith(".yaml"):
        target = str(scenario_file(tmp_path, "name: x\nsteps: [\n", target))
    closed = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&directConnection=true"
    assert main(["run", target, closed, "--json"]) == 2
    out = capsys.readouterr()
    record = json.loads(out.out)
    assert record["passed"] is False and record["error"]["kind"] == kind
    assert record["error"]["message"] and record["error"]["message"].split("\n")[0] in out.err
    if target.endswith(".yaml"):
        assert record["error"]["problems"][0]["line"] == 3


def test_run_json_bad_uri(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "p4", "http://example.com", "--json"]) == 2
    record = json.loads(capsys.readouterr().out)
    assert record["error"]["kind"] == "uri" and record["scenario"] == "p4"


def test_run_json_with_wrong_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["run", "--json"])
    assert done.value.code == 2
    out = capsys.readouterr()
    record = json.loads(out.out)
    assert record["error"]["kind"] == "usage" and "required: scenario" in record["error"]["message"]
    assert "usage: mongotx-tui run" in out.err


def test_limits_hold_with_the_pure_python_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the same checks run on PyYAML's own parser's events."""
    import yaml

    from mongotx_tui.scenario import yamlmarks

    surrogate = MINI.replace("FILTER", '{_id: "\\ud800"}')
    deep = MINI.replace("FILTER", "{_id: " + "[" * 500 + "]" * 500 + "}")
    monkeypatch.setattr(yamlmarks, "_BASE", yaml.SafeLoader)
    for text, words in [(surrogate, "half of a surrogate pair"), (deep, "nested deeper")]:
        with pytest.raises(yamlmarks.YamlProblem) as refusal:
            yamlmarks.check_limits(text)
        assert words in refusal.value.problem and refusal.value.line == 6


def test_a_value_with_no_literal_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario_file(
        tmp_path, MINI.replace("FILTER", "{_id: 1}").replace("v: 1", "v: !!set {a}")
    )
    assert main(["export", str(path)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "Traceback" not in out.err
    assert f"cannot export {path}: cannot export a set value" in out.err
    assert main(["run", str(path), "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"]) == 2

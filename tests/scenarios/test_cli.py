"""The scenario subcommands, called through cli.main and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mongotx_tui.cli import main
from mongotx_tui.scenario import builtin_names
from mongotx_tui.scenario.library import sharded_names


def test_other_arguments_fall_through() -> None:
    assert main([]) is None
    assert main(["mongodb://localhost"]) is None
    assert main(["--db", "x"]) is None


def test_scenarios_lists_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the sharded cluster's lessons last, each saying so
    assert [line.split()[0] for line in lines] == builtin_names() + sharded_names()
    assert all(line.endswith("[sharded cluster]") for line in lines[len(builtin_names()) :])


def test_run_prints_a_table(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "p4", uri]) == 0
    out = capsys.readouterr().out
    assert "session" in out and "expected" in out and "match" in out
    assert "WriteConflict" in out and "9/9 steps as expected" in out


def test_run_json(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "g0", uri, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True and data["scenario"] == "g0"
    assert data["steps"][3]["error"]["code"] == 112


def test_run_fails_when_an_expectation_fails(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mongotx_tui.scenario.library import find_scenario

    text = (
        find_scenario("p4")
        .read_text()
        .replace("value: 10}}\n  - {session: T2", "value: 99}}\n  - {session: T2")
    )
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    assert main(["run", str(path), uri]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_malformed_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsteps: [\n")
    assert main(["run", str(path)]) == 2
    assert f"{path}:3" in capsys.readouterr().err


def test_unknown_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "no-such-scenario"]) == 2
    assert "mongotx-tui scenarios" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [[], ["--async"], ["--sync", "--with-transaction"]])
def test_export_prints_a_script(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "write-conflict", *flags]) == 0
    code = capsys.readouterr().out
    compile(code, "exported.py", "exec")
    assert "start_session()" in code
    assert ("AsyncMongoClient" in code) == ("--async" in flags)
    assert ("with_transaction(" in code) == ("--with-transaction" in flags)


def test_run_without_uri_starts_a_sandbox() -> None:
    code = "import sys; from mongotx_tui.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "run", "g1a"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "7/7 steps as expected" in proc.stdout


def test_a_closed_pipe_is_not_a_traceback() -> None:
    """`mongotx-tui scenarios | head -1`: the reader is gone before the list is written;
    the command stops quietly instead of printing a BrokenPipeError traceback."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_tui", "scenarios"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 0
    assert "Traceback" not in err


def test_help_lists_the_commands_one_line_each() -> None:
    from mongotx_tui.cli import COMMAND_HELP

    proc = subprocess.run(
        [sys.executable, "-m", "mongotx_tui", "--help"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0
    for name, text in COMMAND_HELP.items():
        assert f"  {name.ljust(9)}  {text}\n" in proc.stdout
    assert "exit codes" in proc.stdout


@pytest.mark.parametrize("command", ["scenarios", "run", "export"])
def test_each_command_says_what_it_does_and_its_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    description = out.split("\n\n")[1]
    assert len(description.split()) >= 6  # a sentence, not just the usage line
    assert "exit codes:\n  0 " in out
    if command != "scenarios":
        assert "\n  2 " in out

"""Malformed scenario files: the message names the file, the line and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from mongotx_tui.scenario import ScenarioError, load_scenario, parse_scenario

GOOD = """\
name: demo
description: A demo.
sessions: [A, B]
setup:
  collection: things
  documents: [{_id: 1, value: 10}]
steps:
  - {session: A, action: startTransaction}
  - {session: A, action: update, filter: {_id: 1}, update: {$set: {value: 11}}}
  - {session: B, action: findOne, filter: {_id: 1}, result: {_id: 1, value: 10}}
  - {session: A, action: commit}
verdict: Done.
"""


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "demo.yaml")
    return info.value.problems


def test_good_file_parses() -> None:
    s = parse_scenario(GOOD, "demo.yaml")
    assert [st.action for st in s.steps] == ["startTransaction", "update", "findOne", "commit"]
    assert s.steps[2].line == 10
    assert s.default_collection == "things"


def test_yaml_syntax_error_has_line() -> None:
    text = GOOD.replace("  - {session: A, action: commit}", "  - {session: A, action: commit")
    [(line, problem)] = problems(text)
    assert line in (11, 12)
    assert problem


def test_message_names_file_line_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("action: findOne", "action: findUno"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:10: unknown action 'findUno'")


def test_bad_literal_points_into_the_file() -> None:
    text = GOOD.replace("filter: {_id: 1}, update", 'filter: "{_id: 1", update')
    assert problems(text) == [(9, "update filter: Unexpected end of input")]


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("session: B,", "session: Z,", 10, "no session named 'Z'"),
        ("{$set: {value: 11}}}", "{$set: {value: 11}}, colour: red}", 9, "unknown key 'colour'"),
        ("{$set: {value: 11}}", "{value: 11}", 9, "needs operators"),
        ("result: {_id: 1, value: 10}}", "error: {}}", 10, "needs code, codeName or labels"),
        ("action: commit}", "action: commit, blocks_until: 1}", 11, "later step"),
        ("verdict: Done.\n", "", 1, "missing 'verdict'"),
        ("name: demo", "name: demo\nname: again", 2, "duplicate key 'name'"),
    ],
)
def test_problems(old: str, new: str, line: int, words: str) -> None:
    found = problems(GOOD.replace(old, new))
    assert any(ln == line and words in text for ln, text in found), found


def test_a_blocked_session_cannot_be_reused_before_its_release() -> None:
    text = GOOD.replace(
        "  - {session: B, action: findOne, filter: {_id: 1}, result: {_id: 1, value: 10}}",
        "  - {session: B, action: update, filter: {_id: 1}, update: {$inc: {value: 1}}, blocks_until: 5}\n"
        "  - {session: B, action: findOne, filter: {_id: 1}}",
    ).replace(
        "  - {session: A, action: commit}",
        "  - {session: A, action: commit}\n  - {session: A, action: abort}",
    )
    found = problems(text)
    assert any(ln == 11 and "still blocked in step 3" in p for ln, p in found), found


def test_recover_commit_may_run_while_its_session_is_blocked() -> None:
    """recoverCommit goes through a new connection, not the session's: it may follow the
    session's blocked commit (issue 15 item 5); it needs a session all the same."""
    text = GOOD.replace(
        "  - {session: A, action: commit}",
        "  - {session: A, action: commit, blocks_until: 6}\n"
        "  - {session: A, action: recoverCommit, blocks_until: 6}\n"
        "  - {session: B, action: findOne, filter: {_id: 1}}",
    )
    steps = parse_scenario(text, "demo.yaml").steps
    assert [s.action for s in steps[3:5]] == ["commit", "recoverCommit"]
    found = problems(text.replace("{session: A, action: recoverCommit", "{action: recoverCommit"))
    assert any("recoverCommit needs 'session'" in p for _, p in found), found


def test_not_a_mapping() -> None:
    assert problems("- just\n- a list\n")[0][0] == 1


def test_format_md_example_parses() -> None:
    from mongotx_tui.scenario.library import library_dir

    doc = (library_dir().parent / "FORMAT.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert parse_scenario(example, "FORMAT.md").name == "p4-short"

"""Every exported script (sync, async, with_transaction) runs against a sandbox and
reproduces the scenario's outcome: the same per-step outcomes and the same final data. A
with_transaction script keeps every session and the interleaving; where with_transaction's
own retry changes the outcome, the script says so and prints what the scenario expects."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.scenario import builtin_names, load_scenario
from mongotx_tui.scenario.blocks import plan_chains
from mongotx_tui.scenario.export import export_script
from mongotx_tui.scenario.record import RunRecord

STEP = re.compile(r"^step (\d+) .*\n    -> (.*)$", re.M)
LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")
_records: dict[str, RunRecord] = {}


def headless(name: str, uri: str) -> RunRecord:
    if name not in _records:
        _records[name] = asyncio.run(run_scenario(load_scenario(name), uri))
    return _records[name]


def expected_outcomes(record: RunRecord) -> dict[int, str]:
    out = {}
    for s in record.steps:
        if s.action.startswith("sleep"):
            continue
        if s.error is None:
            out[s.index] = "ok"
        else:
            labels = [label for label in LABELS if label in s.error["labels"]]
            out[s.index] = f"error {s.error['code']}" + (f" {labels}" if labels else "")
    return out


def script_outcomes(stdout: str) -> dict[int, str]:
    out = {}
    for number, line in STEP.findall(stdout):
        if line.startswith("ok"):
            out[int(number)] = "ok"
        else:
            code = line.split()[1]
            labels = [label for label in LABELS if label in line]
            out[int(number)] = f"error {code}" + (f" {labels}" if labels else "")
    return out


def final_state(uri: str, record: RunRecord) -> dict[str, list[dict[str, Any]]]:
    with MongoClient(uri) as client:
        db = client[record.database]  # the database it ran in (one of its own by URI)
        return {name: list(db[name].find({}, sort=[("_id", 1)])) for name in record.final}


def run_script(tmp_path: Path, code: str, uri: str) -> str:
    path = tmp_path / "exported.py"
    path.write_text(code)
    proc = subprocess.run(
        [sys.executable, str(path), uri], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# Scripts run here against the one-member sandbox: the lessons of several members (issue
# 13) are exported but not run (an exported script starts one member, and leaves out the
# sessions' read preference outside transactions).
ONE_MEMBER = [n for n in builtin_names() if load_scenario(n).members == 1]


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", ONE_MEMBER)
def test_exported_script_reproduces_the_run(name: str, aio: bool, uri: str, tmp_path: Path) -> None:
    record = headless(name, uri)
    assert record.passed
    stdout = run_script(tmp_path, export_script(load_scenario(name), aio=aio), uri)
    assert script_outcomes(stdout) == expected_outcomes(record), stdout
    assert final_state(uri, record) == record.final


TXN_STEP = re.compile(r"^step (\d+) (\S+) .*\n    -> (.*)$", re.M)
DIFFERS = "differ from the scenario's"  # the with_transaction script says its own retry began


def txn_outcomes(stdout: str) -> tuple[dict[int, str], set[str]]:
    """Each step's first outcome (ok, error CODE, or not run) before the script says that
    with_transaction's own retry makes outcomes differ; and who ran steps."""
    limit = stdout.find(DIFFERS)
    out: dict[int, str] = {}
    who = set()
    for match in TXN_STEP.finditer(stdout):
        number, session, line = int(match[1]), match[2], match[3]
        who.add(session)
        if number in out or (limit >= 0 and match.start() > limit):
            continue
        if line.startswith("ok"):
            out[number] = "ok"
        elif line.startswith("not run"):
            out[number] = "not run"
        else:
            out[number] = "error " + line.split()[1]
    return out, who


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", ONE_MEMBER)
def test_with_transaction_script_keeps_every_session_and_the_interleaving(
    name: str, aio: bool, uri: str, tmp_path: Path
) -> None:
    record = headless(name, uri)
    scenario = load_scenario(name)
    code = export_script(scenario, aio=aio, with_transaction=True)
    stdout = run_script(tmp_path, code, uri)
    outcomes, who = txn_outcomes(stdout)
    used = {s.session for s in scenario.steps if s.session}
    for session in used:
        assert f'"{session}"' in code
    assert used <= who, stdout
    reported = {int(n) for n in re.findall(r"^step (\d+) ", stdout, re.M)}
    assert reported == {s.index for s in scenario.steps}, stdout  # no step left out
    expected = {
        s.index: "ok" if s.error is None else f"error {s.error['code']}"
        for s in record.steps
        if not s.action.startswith("sleep")
    }
    for number, outcome in outcomes.items():
        # "not run": a step after an error in the callback, which with_transaction skips
        assert outcome in (expected[number], "not run"), (number, stdout)
    if DIFFERS not in stdout:
        assert final_state(uri, record) == record.final, stdout
    else:  # how it differs: the scenario's expectation beside each later outcome
        assert "the scenario expects: " in stdout[stdout.index(DIFFERS) :], stdout


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", ["g0", "write-conflict"])
def test_with_transaction_script_shows_the_conflict_and_the_retry(
    name: str, aio: bool, uri: str, tmp_path: Path
) -> None:
    code = export_script(load_scenario(name), aio=aio, with_transaction=True)
    stdout = run_script(tmp_path, code, uri)
    loser = "T2" if name == "g0" else "B"
    conflict = f"{loser} update {{_id: 1}}"
    assert conflict in stdout
    tail = stdout[stdout.index(conflict) :]
    assert tail.split("\n")[1].startswith(
        "    -> error 112 WriteConflict [TransientTransactionError]"
    ), stdout
    winner = {"g0": "step 6 T1 commit", "write-conflict": "step 5 A commit"}[name]
    retry = "calls the callback again (attempt 2)"
    assert winner in tail and retry in tail, stdout
    assert tail.index(winner) < tail.index(retry)  # the interleaving: the winner commits first
    committed = rf"{loser} commit \(by with_transaction\)\n    -> ok: committed, the callback ran 2"
    assert re.search(committed, tail), stdout


EXPLICIT = """
name: end-session-inside
description: T1 ends its session inside its transaction, while T2's transaction reads.
sessions: [T1, T2]
setup:
  database: wt_explicit
  collection: test
  documents: [{_id: 1, value: 10}]
steps:
  - {session: T1, action: startTransaction}
  - {session: T2, action: startTransaction}
  - {session: T1, action: update, filter: {_id: 1}, update: {$set: {value: 11}}}
  - {session: T2, action: findOne, filter: {_id: 1}, result: {_id: 1, value: 10}}
  - {session: T1, action: endSession}
  - {session: T2, action: commit}
verdict: Ending a session aborts its transaction.
"""


def header_words(code: str) -> str:
    """The script's opening comment and docstring as plain words (no # or line breaks)."""
    return " ".join(code[: code.index("from __future__")].replace("#", "").split())


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_a_transaction_that_cannot_be_a_callback_stays_explicit_and_says_why(
    aio: bool, uri: str, tmp_path: Path
) -> None:
    path = tmp_path / "end-session-inside.yaml"
    path.write_text(EXPLICIT)
    scenario = load_scenario(path)
    record = asyncio.run(run_scenario(scenario, uri))
    assert record.passed
    code = export_script(scenario, aio=aio, with_transaction=True)
    why = "T1's transaction (steps 1, 3, 5) stays explicit"
    assert why in header_words(code)
    assert "ends the session inside the transaction" in header_words(code)
    stdout = run_script(tmp_path, code, uri)
    assert f"note: {why}" in stdout
    assert "t1.start_transaction(" in code and "T2 commit (by with_transaction)" in stdout
    outcomes, who = txn_outcomes(stdout)
    assert who == {"T1", "T2"}
    assert outcomes == {1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok", 6: "ok"}, stdout
    assert final_state(uri, record) == record.final


ONLY_EXPLICIT = """
name: only-explicit
description: T1's transaction is ended with its session; R then reads.
sessions: [T1, R]
setup:
  database: wt_only_explicit
  collection: test
  documents: [{_id: 1, value: 10}]
steps:
  - {session: T1, action: startTransaction}
  - {session: T1, action: update, filter: {_id: 1}, update: {$set: {value: 11}}}
  - {session: T1, action: endSession}
  - {session: R, action: findOne, filter: {_id: 1}, result: {_id: 1, value: 10}}
verdict: Ending a session aborts its transaction.
"""


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_with_no_transaction_a_callback_the_script_still_says_why(
    aio: bool, uri: str, tmp_path: Path
) -> None:
    path = tmp_path / "only-explicit.yaml"
    path.write_text(ONLY_EXPLICIT)
    code = export_script(load_scenario(path), aio=aio, with_transaction=True)
    why = "note: T1's transaction (steps 1, 2, 3) stays explicit"
    assert why[len("note: ") :] in header_words(code)
    stdout = run_script(tmp_path, code, uri)
    assert why in stdout
    assert txn_outcomes(stdout) == ({1: "ok", 2: "ok", 3: "ok", 4: "ok"}, {"T1", "R"})


STILL_HELD = """
name: still-held
description: T2 conflicts with T1 and gives up while T1 still holds the document.
sessions: [T1, T2]
setup:
  database: wt_still_held
  collection: test
  documents: [{_id: 1, value: 10}]
steps:
  - {session: T1, action: startTransaction}
  - {session: T2, action: startTransaction}
  - {session: T1, action: update, filter: {_id: 1}, update: {$set: {value: 11}}}
  - {session: T2, action: update, filter: {_id: 1}, update: {$set: {value: 12}}, error: {code: 112}}
  - {session: T2, action: abort}
  - {session: T1, action: commit}
verdict: T1 wins.
"""


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_a_retry_of_with_transactions_own_that_fails_again_is_stopped_not_spun(
    aio: bool, uri: str, tmp_path: Path
) -> None:
    path = tmp_path / "still-held.yaml"
    path.write_text(STILL_HELD)
    scenario = load_scenario(path)
    record = asyncio.run(run_scenario(scenario, uri))
    stdout = run_script(tmp_path, export_script(scenario, aio=aio, with_transaction=True), uri)
    # T1 still holds the document in step 5's turn: the retry conflicts again, and the
    # script stops with_transaction there instead of letting it retry for 120 s.
    assert "step 5 T2 attempt 2: update {_id: 1} {$set: {value: 12}}\n    -> error 112" in stdout
    assert "T2: with_transaction's own retry failed too; the script stops it here" in stdout
    assert stdout.index("stops it here") < stdout.index("step 6 T1 commit (by with_transaction)")
    assert final_state(uri, record) == record.final


def test_retries_by_hand_become_the_callbacks_later_calls() -> None:
    chains, explicit = plan_chains(load_scenario("write-conflict"))
    assert not explicit
    by_session = {c.session: c for c in chains}
    assert [[s.index for s in b.steps] for b in by_session["B"].blocks] == [[2, 4, 6], [7, 8, 9]]
    assert by_session["A"].threaded and by_session["B"].threaded
    chains, _ = plan_chains(load_scenario("count-in-transaction"))
    assert [len(c.blocks) for c in chains] == [1, 1]  # 263 is not transient: no retry
    assert not any(c.threaded for c in chains)


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("with_txn", [False, True], ids=["explicit", "with_transaction"])
def test_exported_code_is_ruff_clean(aio: bool, with_txn: bool, tmp_path: Path) -> None:
    for name in builtin_names():
        path = tmp_path / f"{name.replace('-', '_')}.py"
        path.write_text(export_script(load_scenario(name), aio=aio, with_transaction=with_txn))
    rules = ["--select", "E,F,W,I,B,UP", "--ignore", "E501"]
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", *rules, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout


def test_every_operation_carries_its_session() -> None:
    for name in builtin_names():
        code = export_script(load_scenario(name))
        for line in code.splitlines():
            if "lambda: " in line and "_transaction(" not in line and "client.admin" not in line:
                assert "session=" in line, line

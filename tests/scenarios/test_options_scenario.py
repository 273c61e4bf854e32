"""Session and operation options in scenario files (issue 11, item 5): they load, run
headless with what they say, survive a save → load round trip, and the exported scripts
(sync and async) run them with the same outcomes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.model.lanes import LaneOptions
from mongotx_tui.scenario.export import export_script
from mongotx_tui.scenario.loader import parse_scenario
from tests.scenarios.test_export import expected_outcomes, run_script, script_outcomes

OPTIONS = """\
name: options
description: Session and operation options.
sessions:
  A: {retryWrites: false}
  B: {snapshot: true}
  C: {causalConsistency: false, readConcern: majority}
setup:
  database: options_test
  collection: accounts
  documents: [{_id: 1, v: 1}]
steps:
  - {action: failPoint, data: {failCommands: [insert], errorCode: 91}}
  - session: A
    action: insert
    document: {_id: 2}
    error: {code: 91, labelsOmit: [RetryableWriteError]}
    note: retryWrites off - the driver does not retry, the error reaches the application
  - {session: B, action: find, filter: {}, result: [{_id: 1, v: 1}]}
  - session: C
    action: insert
    document: {_id: 3}
    writeConcern: {w: 1, j: true, wtimeout: 500}
    comment: c1
  - {session: B, action: find, filter: {}, result: [{_id: 1, v: 1}], note: one snapshot}
  - session: C
    action: countDocuments
    filter: {}
    readConcern: {level: snapshot}
    maxTimeMS: 1000
    result: 2
  - {session: C, action: find, filter: {}, readConcern: {level: majority}, result: [{}, {}]}
  - {session: C, action: startTransaction}
  - session: C
    action: insert
    document: {_id: 4}
    writeConcern: {w: majority}
    note: in a transaction pymongo sends the transaction's write concern, not this one
  - {session: C, action: commit}
  - session: B
    action: startTransaction
    error: {labelsOmit: [TransientTransactionError]}
    note: a snapshot session takes no transaction (pymongo refuses it)
verdict: Each option does what it says.
"""


def scenario(text: str = OPTIONS):
    return parse_scenario(text, "options.yaml")


def test_options_load() -> None:
    s = scenario()
    assert [x.options for x in s.sessions] == [
        LaneOptions(retry_writes=False),
        LaneOptions(causal_consistency=False, snapshot=True),
        LaneOptions(causal_consistency=False),
    ]
    assert s.sessions[2].txn.read_concern == "majority"
    insert = s.steps[3].spec
    assert insert is not None and insert.values()["writeConcern"] == {
        "w": 1,
        "j": True,
        "wtimeout": 500,
    }
    assert insert.values()["comment"] == "c1"
    assert s.steps[5].spec.values()["maxTimeMS"] == 1000


def test_bad_options_are_reported_with_their_line() -> None:
    from mongotx_tui.scenario.loader import ScenarioError

    bad = OPTIONS.replace("{retryWrites: false}", "{retryWrites: 'no'}").replace(
        "maxTimeMS: 1000", "maxTimeMS: soon"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(bad, "bad.yaml")
    text = str(caught.value)
    assert "bad.yaml:4: retryWrites must be true or false" in text
    assert "maxTimeMS must be a whole number" in text


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_the_export_runs_the_options_like_the_headless_run(
    aio: bool, uri: str, tmp_path: Path
) -> None:
    record = asyncio.run(run_scenario(scenario(), uri))
    outcomes = expected_outcomes(record)
    assert outcomes[2] == "error 91" and outcomes[11].startswith("error")
    assert all(outcome == "ok" for n, outcome in outcomes.items() if n not in (2, 11)), outcomes
    assert record.passed, [s for s in record.steps if s.check]
    code = export_script(scenario(), aio=aio)
    assert "retryWrites=False" in code and "start_session(snapshot=True)" in code
    assert "causal_consistency=False" in code
    assert "with_options(write_concern=WriteConcern(w=1, j=True, wtimeout=500))" in code
    assert "readConcern={'level': 'snapshot'}" in code or 'readConcern={"level"' in code
    stdout = run_script(tmp_path, code, uri)
    ran = script_outcomes(stdout)
    # the driver's refusal has no code: "error None" headless, the exception's name here
    assert ran.pop(11).startswith("error") and outcomes.pop(11) == "error None"
    assert ran == outcomes, stdout

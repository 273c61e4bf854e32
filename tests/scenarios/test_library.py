"""Every built-in scenario runs headless against the sandbox and meets its expectations."""

from __future__ import annotations

import pytest

from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.model.anomalies import analyse
from mongotx_tui.model.history import History
from mongotx_tui.scenario import builtin_names, load_scenario
from mongotx_tui.scenario.record import table

HERMITAGE = ["g0", "g1a", "g1b", "g1c", "otv", "pmp", "p4", "g-single", "g2-item", "g2"]

# What the anomaly detector (model.anomalies) names in each built-in scenario's history:
# (phenomenon, prevented by a WriteConflict). The Hermitage verdicts: "Allowed" (g2-item,
# g2) is a committed cycle of that phenomenon; "Prevented" is none of the titled one. G1c's
# history is prevented as G1c (each read the other's old value) and is, as run under
# snapshot isolation, a write skew: T1 and T2 each read what the other then wrote, an
# anti-dependency each way (G2-item), which snapshot isolation allows. P4 (lost update)
# and G-single are stopped by the WriteConflict: had the loser committed, the cycle would
# have one anti-dependency (G-single).
ANOMALIES: dict[str, list[tuple[str, bool]]] = {
    "g1c": [("G2-item", False)],
    "p4": [("G-single", True)],
    "g-single": [("G-single", True)],
    "g2-item": [("G2-item", False)],
    "g2": [("G2", False)],
    "stale-snapshot": [("G-single", True)],
    "lost-update": [("G-single", True)],
}


def test_library_has_hermitage_and_mongodb_cases() -> None:
    names = builtin_names()
    assert names[: len(HERMITAGE)] == HERMITAGE
    assert len(names) >= 21
    assert sum(load_scenario(n).members == 3 for n in names) >= 8  # issue 13's lessons


@pytest.mark.parametrize("name", builtin_names())
async def test_builtin_scenario_meets_expectations(name: str, uri: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.verdict and scenario.description and scenario.teaches
    history = History()
    # A lesson of several members runs as `mongotx-tui run NAME` does: on a sandbox of that
    # many members started for it (issue 13 item 6).
    record = await run_scenario(scenario, uri if scenario.members == 1 else None, history=history)
    assert record.passed, table(record)
    assert record.sandbox
    found = analyse(history)
    named = [(f.phenomenon, bool(f.prevented_by)) for f in found]
    assert named == ANOMALIES.get(name, []), record.anomalies
    assert record.anomalies == [f.one_line() for f in found]
    if name in HERMITAGE and scenario.verdict.startswith("Allowed"):
        assert [f.phenomenon for f in found] == [scenario.title.split(":")[0]]
    elif name in HERMITAGE:
        assert scenario.verdict.startswith("Prevented")
        titled = scenario.title.split(":")[0]
        assert all(f.prevented_by for f in found if f.phenomenon == titled)


async def test_a_lesson_of_three_members_is_refused_by_one_member(uri: str) -> None:
    """Refused before anything changes, with what to do instead."""
    from mongotx_tui.backend.headless import TooFewMembers

    with pytest.raises(
        TooFewMembers, match="needs a replica set of 3 members; this deployment has 1"
    ):
        await run_scenario(load_scenario("stale-secondary-read"), uri)


async def test_allowed_anomalies_commit_both_transactions(uri: str) -> None:
    """G2-item and G2 are the two anomalies snapshot isolation lets through."""
    for name in ("g2-item", "g2"):
        record = await run_scenario(load_scenario(name), uri)
        commits = [s for s in record.steps[:8] if s.action == "commit"]
        assert [c.outcome for c in commits] == ["committed", "committed"]


async def test_a_wrong_expectation_is_reported(uri: str) -> None:
    scenario = load_scenario("p4")
    scenario.steps[5].expect.error = None  # claim T2's conflicting write succeeds
    record = await run_scenario(scenario, uri)
    assert not record.passed
    bad = [s for s in record.steps if not s.match]
    assert [s.index for s in bad] == [6]
    assert "WriteConflict" in bad[0].reason
    assert "MISMATCH" in table(record)


async def test_blocking_that_does_not_happen_is_a_mismatch(uri: str) -> None:
    scenario = load_scenario("blocked-write")
    scenario.steps[2].expect.blocks_until = 4  # a read never waits
    scenario.steps[2].expect.result = {"_id": 1, "balance": 10}
    record = await run_scenario(scenario, uri)
    assert not record.steps[2].match
    assert "expected it to wait" in record.steps[2].reason
    assert record.steps[3].match and record.steps[3].blocked

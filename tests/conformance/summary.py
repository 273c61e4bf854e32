"""`python -m tests.conformance.summary [--check] [--area A] [--sharded] [pytest args]`.

Runs the conformance suite through `pytest.main`, then prints passed/failed/skipped per area
and every failing test with a one-line reason, and how the tests that need a sharded
topology went. `--check` exits 1 when issue 3's targets are not met (percentages are over
applicable, i.e. non-skipped, tests). `--sharded` runs against a sharded sandbox's routers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .specs import AREAS, REPO_ROOT, SpecCase, iter_cases, spec_dir

# (row label, required pass rate over applicable tests, or None for report-only)
TARGETS: dict[str, float | None] = {
    "transactions (no fail point)": 1.0,
    "transactions (fail point)": 0.95,
    "transactions-convenient-api": 1.0,
    "sessions": 1.0,
    "crud": 0.90,
    "change-streams": None,
}


@dataclass
class Row:
    """Counts and failures of one summary row."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def rate(self) -> float | None:
        applicable = self.passed + self.failed
        return self.passed / applicable if applicable else None


class Collector:
    """pytest plugin: remember each spec test's outcome and a one-line reason."""

    def __init__(self) -> None:
        self.outcomes: dict[str, tuple[str, str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case_id = _case_id(report.nodeid)
        if case_id is None:
            return
        if report.when == "call" or report.outcome != "passed":
            if case_id in self.outcomes and self.outcomes[case_id][0] != "passed":
                return  # keep the first non-pass (e.g. a call failure before a teardown error)
            self.outcomes[case_id] = (report.outcome, _reason(report))


def _case_id(nodeid: str) -> str | None:
    if "::test_spec[" not in nodeid:
        return None
    return nodeid.split("::test_spec[", 1)[1][:-1]


def _reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):
        text = str(longrepr[2]).removeprefix("Skipped: ")
    elif hasattr(longrepr, "reprcrash") and longrepr.reprcrash is not None:
        text = longrepr.reprcrash.message
    else:
        text = str(longrepr)
    line = text.strip().splitlines()[0] if text.strip() else ""
    for prefix in ("tests.conformance.matching.MatchError: ", "Failed: ", "AssertionError: "):
        line = line.removeprefix(prefix)
    return line[:240]


def uses_fail_point(case: SpecCase) -> bool:
    """True when the test (or a withTransaction callback in it) configures a fail point."""

    def walk(ops: Iterable[Mapping[str, Any]]) -> bool:
        for op in ops:
            if op["name"] in ("failPoint", "targetedFailPoint"):
                return True
            if walk(op.get("arguments", {}).get("callback", [])):
                return True
        return False

    return walk(case.test["operations"])


# Topologies a one-member replica set (the default target) is.
_NOT_SHARDED = {"single", "replicaset"}


def needs_sharded(case: SpecCase) -> bool:
    """True when the file's or the test's runOnRequirements can be met only by a sharded
    (or load-balanced) deployment: every alternative names topologies, none of them
    single or replicaset. These run only with `--sharded` (issue 15)."""

    def only_sharded(requirements: Any) -> bool:
        return bool(requirements) and all(
            "topologies" in r and not set(r["topologies"]) & _NOT_SHARDED for r in requirements
        )

    return only_sharded(case.file.get("runOnRequirements")) or only_sharded(
        case.test.get("runOnRequirements")
    )


def sharded_line(cases: list[SpecCase], outcomes: Mapping[str, tuple[str, str]]) -> str:
    """`Needing a sharded topology: 80 tests; passed 79, failed 1, skipped 0`."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    total = 0
    for case in cases:
        if not needs_sharded(case) or case.case_id not in outcomes:
            continue
        total += 1
        outcome = outcomes[case.case_id][0]
        counts[outcome if outcome in counts else "failed"] += 1
    return (
        f"Needing a sharded topology: {total} tests; passed {counts['passed']}, "
        f"failed {counts['failed']}, skipped {counts['skipped']}"
    )


def row_label(case: SpecCase) -> str:
    if case.area == "transactions":
        return f"transactions ({'fail point' if uses_fail_point(case) else 'no fail point'})"
    return case.area


def tabulate(cases: list[SpecCase], outcomes: Mapping[str, tuple[str, str]]) -> dict[str, Row]:
    labels = {row_label(case) for case in cases}
    rows = {label: Row() for label in TARGETS if label in labels}
    for case in cases:
        if case.case_id not in outcomes:
            continue
        outcome, reason = outcomes[case.case_id]
        row = rows[row_label(case)]
        if outcome == "passed":
            row.passed += 1
        elif outcome == "skipped":
            row.skipped += 1
        else:
            row.failed += 1
            row.failures.append((case.case_id, reason))
    return rows


def render(rows: Mapping[str, Row], command: str) -> tuple[str, bool]:
    """The report text, and whether every target is met."""
    today = datetime.date.today().isoformat()
    lines = [
        f"Conformance summary ({today}; `{command}`)",
        "",
        "| area | passed | failed | skipped | pass rate | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    all_met = True
    for label, row in rows.items():
        rate, target = row.rate(), TARGETS[label]
        met = "report only" if target is None else ("yes" if (rate or 0) >= target else "no")
        if target is not None and (rate is None or rate < target):
            all_met = False
            met = "no" if rate is not None else "no (nothing ran)"
        rate_text = "-" if rate is None else f"{rate:.1%}"
        target_text = "-" if target is None else f"{target:.0%}"
        lines.append(
            f"| {label} | {row.passed} | {row.failed} | {row.skipped} | {rate_text} "
            f"| {target_text} | {met} |"
        )
    for label, row in rows.items():
        if row.failures:
            lines += ["", f"Failing in {label} ({len(row.failures)}):"]
            lines += [f"- {case_id}: {reason}" for case_id, reason in row.failures]
    return "\n".join(lines), all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is not met")
    parser.add_argument("--area", choices=AREAS, action="append", help="limit to these areas")
    parser.add_argument(
        "--sharded",
        action="store_true",
        help="run against a sharded sandbox (mongotx-sandbox --sharded, two routers)",
    )
    args, pytest_args = parser.parse_known_args(argv)
    if args.sharded:
        os.environ["MONGOTX_TEST_SHARDED"] = "1"  # read by target.Target
    root = spec_dir()
    if not root.is_dir():
        # Like the pytest cases, the summary skips (saying so) rather than fails: a fresh
        # clone has no ../shared, and the spec tests may not be copied into the repository.
        print(f"conformance skipped: spec tests not found at {root} (set MONGOTX_SPEC_TESTS)")
        return 0
    cases = [c for c in iter_cases(root) if not args.area or c.area in args.area]
    selection = []
    if args.area:
        selection = ["-k", " or ".join(f"{area}/" for area in args.area)]
    collector = Collector()
    test_file = str(Path(__file__).with_name("test_spec.py").relative_to(REPO_ROOT))
    pytest.main(
        [test_file, "-q", "-p", "no:cacheprovider", "--no-header", "-rN", "--tb=no",
         *selection, *pytest_args],
        plugins=[collector],
    )  # fmt: skip
    command = "python -m tests.conformance.summary " + shlex.join(argv or sys.argv[1:])
    text, all_met = render(tabulate(cases, collector.outcomes), command.strip())
    print()
    print(text)
    print()
    print(sharded_line(cases, collector.outcomes))
    return 0 if all_met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())

"""Anomaly detector benchmark: prints figures (goals in brackets).

    python benchmarks/anomaly_bench.py

The workbench analyses its history after every commit (backend.anomaly_watch), on the event
loop, so one analysis must stay short however long the session has run:
1. 1 200 transactions of 4 lanes interleaved round by round (each reads one of 8
   documents and writes another: many cycles), worst analysis                 [≤ 100 ms]
2. then 100 rounds where B loses a WriteConflict after reading (the prevented ones
   looked at too), worst analysis                                             [≤ 250 ms]
"""

from __future__ import annotations

import random
import time

from mongotx_tui.model.anomalies import analyse
from mongotx_tui.model.history import History, Step, access_of


def _read(h: History, lane: str, n: int, key: int, v: int) -> None:
    access = access_of("findOne", "c", {}, {"_id": key, "v": v})
    h.record(Step(lane, "findOne", "r", "", True, True, n, access=access))


def _write(h: History, lane: str, n: int, key: int, conflict: bool = False) -> None:
    result = None if conflict else {"matchedCount": 1, "modifiedCount": 1}
    access = access_of("update", "c", {"filter": {"_id": key}}, result)
    code, aborted = (112, True) if conflict else (None, None)
    h.record(
        Step(lane, "update", "u", "", not conflict, True, n, access, code=code, aborted=aborted)
    )


def _timed(h: History) -> float:
    """One analysis as the workbench makes it after a commit: through the committer."""
    t0 = time.perf_counter()
    analyse(h, {h.rows[-1].txn_id})
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    rng = random.Random(1)
    h = History()
    lanes = "ABCD"
    num = dict.fromkeys(lanes, 0)
    worst = 0.0
    for r in range(300):
        for lane in lanes:
            num[lane] += 1
            h.record(Step(lane, "startTransaction", "s", "", True, True, num[lane]))
        for lane in lanes:
            _read(h, lane, num[lane], rng.randint(1, 8), r)
        for lane in lanes:
            _write(h, lane, num[lane], rng.randint(1, 8))
        for lane in lanes:
            h.record(Step(lane, "commit", "c", "", True, True, num[lane]))
            worst = max(worst, _timed(h))
    print(f"1. {len(h.txns)} transactions, worst analysis {worst:.1f} ms  [≤ 100 ms]")
    worst = 0.0
    for r in range(100):
        for lane in "AB":
            num[lane] += 1
            h.record(Step(lane, "startTransaction", "s", "", True, True, num[lane]))
            _read(h, lane, num[lane], 1, r)
        _write(h, "A", num["A"], 1)
        _write(h, "B", num["B"], 1, conflict=True)
        h.record(Step("A", "commit", "c", "", True, True, num["A"]))
        worst = max(worst, _timed(h))
        h.record(Step("B", "abort", "a", "", True, True, num["B"]))
    print(f"2. with WriteConflicts, worst analysis {worst:.1f} ms  [≤ 250 ms]")


if __name__ == "__main__":
    main()

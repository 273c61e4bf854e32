"""A bounded Jepsen-style bank under faults and session kills (issue 16, "What to build").

Ten accounts holding 1,000 in all; threads and one asyncio task group move money in
transactions (with_transaction and hand-written label-keyed retries), each transfer also
writing a ledger entry keyed by its transfer id, and each followed by a retryable `$inc`;
snapshot readers check the books. Meanwhile failCommand fail points (closeConnection,
retryable codes 91/189/10107, writeConcernError 64/91, blockConnection), replies dropped
after the command ran, and killAllSessions are applied by operation count from a seeded
schedule. Invariants, checked exactly: every snapshot sums to 1,000 and agrees with the
ledger it sees; the ledger is the set of acknowledged transfers; final balances are the
initial ones plus the ledger; the counter is the acknowledged increments plus at most the
ones whose outcome the client could not know.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox

from .bank_async import task_group
from .bank_faults import APP, DB, Progress, ReplyDropper, Seen, inject, schedule
from .bank_workload import ACCOUNTS, INITIAL, TOTAL, Tally, books_error, plan, reader, sync_worker

SEED = 16
SYNC_TRANSFERS = 25  # per thread: two with_transaction, two by hand
ASYNC_TRANSFERS = 20  # per task: one of each style
READS = 30  # per reader: one snapshot transaction, one snapshot session
FAULT_EVERY = 6  # operations between two steps of the fault schedule
KILL_EVERY = 5  # every fifth step is killAllSessions
DEADLINE_S = 300  # a hang, not a slow machine: the run takes seconds


@dataclass
class Run:
    """What one run saw: the workers' tally, the faults, the final state."""

    tally: Tally = field(default_factory=Tally)
    seen: Seen = field(default_factory=Seen)
    errors: list[str] = field(default_factory=list)  # a worker's traceback
    applied: Counter[str] = field(default_factory=Counter)  # fault steps by kind
    dropper: ReplyDropper = field(default_factory=ReplyDropper)
    transfers: int = 0
    elapsed: float = 0.0
    final: dict[str, Any] = field(default_factory=dict)

    def spawn(self, name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException:
                self.errors.append(f"{name}: {traceback.format_exc()}")

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread


def _counted(progress: Progress, target: Callable[..., None]) -> Callable[..., None]:
    """`target`, telling `progress` when it ends (the fault thread stops with the last)."""

    def run(*args: Any) -> None:
        try:
            target(*args)
        finally:
            progress.worker_done()

    return run


def _setup(uri: str) -> None:
    with MongoClient(uri) as client:
        db = client[DB]
        db.accounts.insert_many([{"_id": i, "bal": INITIAL} for i in range(ACCOUNTS)])
        db.create_collection("ledger")
        db.counter.insert_one({"_id": "n", "n": 0})


def _final(uri: str) -> dict[str, Any]:
    with MongoClient(uri) as client:
        db = client[DB]
        return {
            "accounts": list(db.accounts.find()),
            "ledger": list(db.ledger.find()),
            "counter": db.counter.find_one({"_id": "n"})["n"],
        }


def run_bank(seed: int) -> Run:
    """One bounded run against a sandbox of its own (its handler drops replies)."""
    run = Run()
    sync_plans = [(plan(seed, f"s{i}", SYNC_TRANSFERS), i % 2 == 1) for i in range(4)]
    async_plans = [(plan(seed, f"a{i}", ASYNC_TRANSFERS), i == 1) for i in range(2)]
    run.transfers = sum(len(p) for p, _ in sync_plans + async_plans)
    # Each transfer is followed by one $inc: two operations; a snapshot read is one.
    faults = schedule(seed, (2 * run.transfers + 2 * READS) // FAULT_EVERY, KILL_EVERY)
    progress = Progress(workers=len(sync_plans) + 2 + len(async_plans))
    sandbox = ThreadedSandbox(handler=run.dropper.handle)
    uri = sandbox.start()
    clients = [MongoClient(uri, appname=APP, event_listeners=[run.seen]) for _ in range(3)]
    admin: MongoClient = MongoClient(uri, appname="bank-admin")
    try:
        _setup(uri)
        started = time.monotonic()
        worker, read = _counted(progress, sync_worker), _counted(progress, reader)
        threads = [
            run.spawn(f"sync{i}", worker, clients[i % 2], p, by_hand, run.tally, progress)
            for i, (p, by_hand) in enumerate(sync_plans)
        ]
        threads += [
            run.spawn(f"reader{i}", read, clients[2], READS, i == 0, run.tally, progress)
            for i in range(2)
        ]
        threads.append(
            run.spawn("async", task_group, uri, run.seen, async_plans, run.tally, progress)
        )
        threads.append(
            run.spawn(
                "faults", inject, admin, run.dropper, faults, progress, FAULT_EVERY, run.applied
            )
        )
        for thread in threads:
            thread.join(DEADLINE_S)
            assert not thread.is_alive(), f"{thread.name} hangs"
        run.elapsed = time.monotonic() - started
        run.final = _final(uri)
    finally:
        for c in clients:
            c.close()
        admin.close()
        sandbox.stop()
    return run


def summary(run: Run) -> str:
    t = run.tally
    kinds: Counter[str] = Counter()
    for kind, n in run.applied.items():
        kinds[kind.split(":")[0]] += n
    return (
        f"bank: {run.elapsed:.1f}s; {run.transfers} transfers in {t.txn_attempts} transactions, "
        f"{t.commit_retries} commit retries, {len(t.totals)} snapshot reads; "
        f"faults {dict(sorted(kinds.items()))}; replies dropped {dict(run.dropper.dropped)}; "
        f"clients saw {dict(sorted(run.seen.failures.items()))}; "
        f"unlabelled statement errors {dict(t.statement_errors)}, commit errors "
        f"{dict(t.odd_commit_errors)}; increments acknowledged {t.inc_acked}, unknown "
        f"{sum(t.inc_unknown.values())} {dict(t.inc_unknown)}, counter {run.final['counter']}"
    )


def check(run: Run) -> None:
    """The invariants, exactly."""
    tally, final = run.tally, run.final
    assert run.errors == []
    assert run.seen.internal == []
    # Snapshots: every total is the initial total, and balances agree with the ledger.
    assert len(tally.totals) == 2 * READS
    assert set(tally.totals) == {TOTAL}
    assert tally.torn_reads == []
    # Nothing applied twice: no retry met its own ledger entry, and the balances moved by
    # exactly the ledger's amounts (each transfer counted once through its effect).
    assert tally.duplicates == []
    assert books_error(final["accounts"], final["ledger"]) is None
    # Nothing acknowledged is lost, nothing unacknowledged appears: every transfer ended
    # acknowledged (its outcome was asked for until known) and the ledger is exactly them.
    assert len(tally.acked) == run.transfers
    assert sorted(e["_id"] for e in final["ledger"]) == sorted(tally.acked)
    # The counter: every acknowledged $inc once, plus at most the unknown ones.
    unknown = sum(tally.inc_unknown.values())
    assert tally.inc_acked <= final["counter"] <= tally.inc_acked + unknown


def test_bank_with_faults_and_kills() -> None:
    run = run_bank(SEED)
    print("\n" + summary(run))
    check(run)

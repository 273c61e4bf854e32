"""Sandbox benchmark: prints one table of figures (issue 2). Not a test: no asserts on time.

python benchmarks/sandbox_bench.py [--docs 10000] [--rss-docs 100000] [--heavy-seconds 10]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time

from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mongotx_sandbox import ThreadedSandbox


def rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def timed(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    """Median seconds per call over n calls."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2]


def engine_rows() -> list[tuple[str, str, str]]:
    """The query engine alone, no wire: matching and keys over 10,000 documents."""
    from mongotx_sandbox.engine import canonical_key, matches

    docs = [{"_id": i, "balance": i % 50, "name": f"n{i}"} for i in range(10_000)]
    out = []
    for what, fn in (
        ("match {_id: 5}", lambda: sum(matches({"_id": 5}, d) for d in docs)),
        (
            "match {balance: {$gt: 10}}",
            lambda: sum(matches({"balance": {"$gt": 10}}, d) for d in docs),
        ),
        ("canonical_key of _id", lambda: [canonical_key(d["_id"]) for d in docs]),
    ):
        ms = timed(fn, 5) * 1e3
        out.append((f"engine: {what}, 10,000 docs", f"{ms:.1f} ms", "in process, no wire"))
    return out


def heavy_rows(uri: str, seconds: float) -> list[tuple[str, str, str]]:
    """Issue 16, item 3: one client's CPU-heavy work against the others, and the joins."""
    rows: list[tuple[str, str, str]] = []
    client: MongoClient = MongoClient(uri)
    db = client.bench
    db.heavy.drop()
    db.heavy.insert_many([{"_id": i} for i in range(300)])
    # Nested $lookups (27 million document copies): busy for its whole maxTimeMS.
    nested = [
        {
            "$lookup": {
                "from": "heavy",
                "pipeline": [{"$lookup": {"from": "heavy", "pipeline": [], "as": "b"}}],
                "as": "a",
            }
        }
    ]
    other: MongoClient = MongoClient(uri)
    other.admin.command("ping")
    ran: list[float] = []

    def run_heavy() -> None:
        t0 = time.perf_counter()
        try:
            list(db.heavy.aggregate(nested, maxTimeMS=int(seconds * 1000)))
        except OperationFailure:
            pass  # MaxTimeMSExpired: the point is the load
        ran.append(time.perf_counter() - t0)

    worker = threading.Thread(target=run_heavy)
    worker.start()
    time.sleep(0.2)  # let it start
    samples = []
    while worker.is_alive():
        t0 = time.perf_counter()
        other.admin.command("ping")
        samples.append(time.perf_counter() - t0)
        time.sleep(0.01)
    worker.join()
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    rows.append(
        (
            f"ping p99 while another client computes {ran[0]:.1f} s",
            f"{p99 * 1e3:.1f} ms",
            f"{len(samples)} pings, max {samples[-1] * 1e3:.0f} ms; goal ≤ 50 ms",
        )
    )
    other.close()
    db.heavy.drop()

    db.lk_local.drop()
    db.lk_foreign.drop()
    db.lk_foreign.insert_many([{"_id": i, "v": i} for i in range(1000)])
    for start in range(0, 100_000, 10_000):
        db.lk_local.insert_many([{"_id": i, "ref": i % 1000} for i in range(start, start + 10_000)])
    join = [
        {"$lookup": {"from": "lk_foreign", "localField": "ref", "foreignField": "_id", "as": "j"}},
        {"$count": "n"},
    ]
    t0 = time.perf_counter()
    list(db.lk_local.aggregate(join))
    rows.append(
        (
            "$lookup 100k x 1k on _id (then $count)",
            f"{time.perf_counter() - t0:.2f} s",
            "goal ≤ 2 s",
        )
    )
    db.lk_local.drop()
    db.lk_foreign.drop()

    db.big_array.drop()
    db.big_array.insert_one({"_id": 1, "a": list(range(8000))})
    t0 = time.perf_counter()
    list(db.big_array.aggregate([{"$unwind": "$a"}, {"$count": "n"}]))
    rows.append(
        ("$unwind of 8,000 elements (then $count)", f"{time.perf_counter() - t0:.2f} s", "")
    )
    t0 = time.perf_counter()
    db.big_array.find_one({"a": {"$all": list(range(8000))}})
    rows.append(
        ("$all of 8,000 values, 8,000-element array", f"{time.perf_counter() - t0:.2f} s", "")
    )
    db.big_array.drop()
    client.close()
    return rows


def history_rss_row(updates: int) -> tuple[str, str, str]:
    """RSS of a sandbox in its own process (so the figure is the server's alone) before and
    after `updates` $inc on one 1 MB document, with the default history window (issue 16).

    The document is an array of 90,000 numbers (1 MB of BSON): each update copies it, where
    a long string would be shared between versions and hide the cost of history.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        client: MongoClient = MongoClient(proc.stdout.readline().strip())
        client.admin.command("ping")
        before = rss_mb(proc.pid)
        coll = client.bench.history
        coll.insert_one({"_id": 1, "n": 0, "pad": list(range(90_000))})
        t0 = time.perf_counter()
        for _ in range(updates):
            coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
        seconds = time.perf_counter() - t0
        after = rss_mb(proc.pid)
        client.close()
    finally:
        proc.terminate()
        proc.wait()
    return (
        f"server RSS after {updates:,} updates of a 1 MB doc",
        f"{after:.0f} MB",
        f"+{after - before:.0f} MB from {before:.0f} MB in {seconds:.0f} s; goal ≤ +100 MB",
    )


def _txn_rate(client: MongoClient, seconds: float) -> float:
    coll = client.bench.auth
    coll.drop()
    coll.insert_many([{"_id": i, "v": 0} for i in range(100)])
    rng = random.Random(2)
    n = 0
    t0 = time.perf_counter()
    with client.start_session() as s:
        while time.perf_counter() - t0 < seconds:
            s.start_transaction()
            coll.update_one({"_id": rng.randrange(100)}, {"$inc": {"v": 1}}, session=s)
            s.commit_transaction()
            n += 1
    return n / (time.perf_counter() - t0)


def auth_rows(seconds: float = 2.0) -> list[tuple[str, str, str]]:
    """--auth (issue 13 item 4): a SCRAM-SHA-256 login, and what access control costs a
    transactional update, next to a sandbox without it in the same run."""
    from mongotx_sandbox.auth import enforce

    with ThreadedSandbox() as uri:
        plain: MongoClient = MongoClient(uri)
        plain_rate = _txn_rate(plain, seconds)
        plain.close()
    server = ThreadedSandbox()
    server.server.state.auth = enforce([("bench", "bench-pw")])
    uri = server.start().replace("mongodb://", "mongodb://bench:bench-pw@")

    def login() -> None:
        # directConnection: no monitor to wait for, only the login's round trips
        with MongoClient(uri + "&directConnection=true") as c:
            c.admin.command("ping")

    login_s = timed(login, 30)
    client: MongoClient = MongoClient(uri)
    auth_rate = _txn_rate(client, seconds)
    client.close()
    server.stop()
    return [
        ("connect + SCRAM-SHA-256 login + ping", f"{login_s * 1e3:.1f} ms", "median of 30"),
        (
            "transactional updates/s, --auth root user",
            f"{auth_rate:,.0f} /s",
            f"{auth_rate / plain_rate:.2f} of {plain_rate:,.0f} /s without --auth",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--rss-docs", type=int, default=100_000)
    parser.add_argument("--heavy-seconds", type=float, default=10.0)
    parser.add_argument("--history-updates", type=int, default=1000)
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = engine_rows()
    rows.append(history_rss_row(args.history_updates))
    with ThreadedSandbox() as uri:
        client: MongoClient = MongoClient(uri)
        coll = client.bench.docs
        coll.drop()
        coll.insert_many([{"_id": i, "v": i % 1000, "s": "x" * 50} for i in range(args.docs)])
        ping = timed(lambda: client.admin.command("ping"), 2000)
        rows.append(("ping round trip", f"{ping * 1e6:.0f} µs", ""))
        rng = random.Random(1)
        find = timed(lambda: coll.find_one({"_id": rng.randrange(args.docs)}), 2000)
        rows.append(
            (
                f"find_one by _id ({args.docs} docs)",
                f"{find * 1e6:.0f} µs",
                f"ratio to ping {find / ping:.2f} (goal ≤ 1.5)",
            )
        )
        n = 0
        t0 = time.perf_counter()
        with client.start_session() as s:
            while time.perf_counter() - t0 < 3:
                s.start_transaction()
                coll.update_one({"_id": rng.randrange(args.docs)}, {"$inc": {"v": 1}}, session=s)
                s.commit_transaction()
                n += 1
        rate = n / (time.perf_counter() - t0)
        rows.append(
            ("transactional point updates, one connection", f"{rate:,.0f} /s", "goal ≥ 2,000")
        )
        scan = timed(lambda: list(coll.find({"v": {"$gte": 990}})), 10)
        rows.append((f"filtered scan of {args.docs} docs", f"{scan * 1e3:.1f} ms", "goal ≤ 100 ms"))
        coll.drop()
        before = rss_mb()
        big = client.bench.big
        big.drop()
        filler = "y" * 1000
        for start in range(0, args.rss_docs, 10_000):
            big.insert_many(
                [{"_id": i, "p": filler} for i in range(start, min(args.rss_docs, start + 10_000))]
            )
        after = rss_mb()
        rows.append(
            (
                f"RSS with {args.rss_docs:,} 1 KB docs (whole process)",
                f"{after:.0f} MB",
                f"+{after - before:.0f} MB for the data; goal ≤ 500 MB",
            )
        )
        client.close()
        rows += heavy_rows(uri, args.heavy_seconds)
    rows += auth_rows()
    from replset_bench import replset_rows  # beside this file (issue 13's figures)

    rows += replset_rows()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'figure':>12}  note")
    for name, figure, note in rows:
        print(f"{name:<{width}}  {figure:>12}  {note}")


if __name__ == "__main__":
    main()

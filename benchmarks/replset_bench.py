"""Issue 13's figures: a three-member set against one member, in one run. Not a test.

python benchmarks/replset_bench.py [--seconds 3] [--samples 500]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time

from pymongo import MongoClient
from pymongo.write_concern import WriteConcern

from mongotx_sandbox import ThreadedSandbox

DOCS = 1000


def _cpu() -> float:
    """This process's CPU seconds (client, sandbox and its members: one process)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def txn_rate(members: int, seconds: float) -> tuple[float, float]:
    """Transactional point updates per second on one connection (the default write
    concern: majority on three members, as MongoDB's implicit default), and the process's
    CPU microseconds per transaction (what the machine's load does not change much)."""
    with ThreadedSandbox(members=members) as uri:
        client: MongoClient = MongoClient(uri)
        coll = client.bench.docs
        coll.insert_many([{"_id": i, "v": 0} for i in range(DOCS)])
        rng = random.Random(1)
        n = 0
        cpu0 = _cpu()
        t0 = time.perf_counter()
        with client.start_session() as s:
            while time.perf_counter() - t0 < seconds:
                s.start_transaction()
                coll.update_one({"_id": rng.randrange(DOCS)}, {"$inc": {"v": 1}}, session=s)
                s.commit_transaction()
                n += 1
        rate = n / (time.perf_counter() - t0)
        cpu_us = (_cpu() - cpu0) / max(n, 1) * 1e6
        client.close()
    return rate, cpu_us


def apply_latencies(samples: int) -> list[float]:
    """Seconds from a primary's commit (its oplog entry's wall time) to member 1 having
    applied it, per w:1 transaction."""
    sandbox = ThreadedSandbox(members=3)
    uri = sandbox.start()
    rs = sandbox.server.replica_set
    assert rs is not None
    client: MongoClient = MongoClient(uri)
    coll = client.bench.get_collection("docs", write_concern=WriteConcern(w=1))
    coll.insert_one({"_id": 0, "v": 0})
    out = []
    member = rs.members[1]
    with client.start_session() as s:
        for _ in range(samples):
            s.start_transaction(write_concern=WriteConcern(w=1))
            coll.update_one({"_id": 0}, {"$inc": {"v": 1}}, session=s)
            s.commit_transaction()

            async def applied() -> float:
                entry = rs.members[0].state.oplog[-1]
                await rs.wait_until(lambda e=entry: member.applied >= e.seq, None)
                return time.time() - entry.wall

            out.append(sandbox.call(applied))
    client.close()
    sandbox.stop()
    return out


def replset_rows(seconds: float = 3.0, samples: int = 500) -> list[tuple[str, str, str]]:
    # Interleaved, best of two each: the machine's load drifts over a run.
    rates: dict[int, list[float]] = {1: [], 3: []}
    cpus: dict[int, list[float]] = {1: [], 3: []}
    load = os.getloadavg()[0]
    for members in (1, 3, 1, 3):
        rate, cpu_us = txn_rate(members, seconds / 2)
        rates[members].append(rate)
        cpus[members].append(cpu_us)
    one, three = max(rates[1]), max(rates[3])
    cpu_one, cpu_three = min(cpus[1]), min(cpus[3])
    lat = sorted(apply_latencies(samples))
    p95 = lat[int(len(lat) * 0.95) - 1] * 1e3
    return [
        ("transactional updates, 1 member", f"{one:,.0f} /s", ""),
        (
            "transactional updates, 3 members (w:majority)",
            f"{three:,.0f} /s",
            f"{three / one:.0%} of 1 member (goal ≥ 70%)",
        ),
        (
            "CPU per transaction, 1 member → 3 members",
            f"{cpu_one:,.0f} → {cpu_three:,.0f} µs",
            f"{cpu_three / cpu_one:.2f} times (the set's own cost, whatever the load)",
        ),
        ("primary commit → secondary applied, p95", f"{p95:.2f} ms", "goal ≤ 5 ms"),
        ("load average (1 min) at start → end", f"{load:.1f} → {os.getloadavg()[0]:.1f}", ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    rows = replset_rows(args.seconds, args.samples)
    width = max(len(r[0]) for r in rows)
    for name, figure, note in rows:
        print(f"{name:<{width}}  {figure:>12}  {note}")


if __name__ == "__main__":
    main()

"""Sharded sandbox benchmark (issue 15): prints figures, asserts nothing.

- single-shard transactional updates per second through the router, and directly on the
  shard, in the same run (goal: the router keeps >= 60%);
- a two-shard commit's added time over a single-shard commit, with the router-to-shard
  round trips each commit takes.

python benchmarks/sharded_bench.py [--seconds 3] [--commits 200]
"""

from __future__ import annotations

import argparse
import time

from pymongo import MongoClient

from mongotx_sandbox import ThreadedShardedSandbox


def rate(client: MongoClient, seconds: float) -> float:
    """Transactions per second, each updating one document (start, update, commit)."""
    coll = client.bank.accounts
    done = 0
    end = time.perf_counter() + seconds
    with client.start_session() as s:
        while time.perf_counter() < end:
            with s.start_transaction():
                coll.update_one({"_id": 1}, {"$inc": {"balance": 1}}, session=s)
            done += 1
    return done / seconds


def commit_cost(
    cluster: ThreadedShardedSandbox, client: MongoClient, ids: list[int], n: int
) -> tuple[float, float]:
    """Median commitTransaction seconds, and round trips to shards per commit, for
    transactions that update `ids` (one per shard wanted)."""
    coll = client.bank.accounts
    shards = cluster.cluster.core.shards.values()  # type: ignore[union-attr]
    samples: list[float] = []
    trips = 0
    with client.start_session() as s:
        for _ in range(n):
            s.start_transaction()
            for i in ids:
                coll.update_one({"_id": i}, {"$inc": {"balance": 1}}, session=s)
            before = sum(sh.round_trips for sh in shards)
            t0 = time.perf_counter()
            s.commit_transaction()
            samples.append(time.perf_counter() - t0)
            trips += sum(sh.round_trips for sh in shards) - before
    samples.sort()
    return samples[len(samples) // 2], trips / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--commits", type=int, default=200)
    args = parser.parse_args()
    cluster = ThreadedShardedSandbox()
    uri = cluster.start()
    router: MongoClient = MongoClient(uri)
    direct: MongoClient = MongoClient(cluster.shard_uri("shard0"))
    try:
        router.admin.command("enableSharding", "bank", primaryShard="shard0")
        router.admin.command("shardCollection", "bank.accounts", key={"_id": 1})
        router.admin.command("split", "bank.accounts", middle={"_id": 100})
        router.admin.command("moveChunk", "bank.accounts", find={"_id": 100}, to="shard1")
        router.bank.accounts.insert_many([{"_id": 1, "balance": 0}, {"_id": 101, "balance": 0}])
        # Alternated, so that both figures share the machine's load alike; best of three.
        via_router, on_shard = [], []
        for _ in range(3):
            via_router.append(rate(router, args.seconds / 3))
            on_shard.append(rate(direct, args.seconds / 3))
        r, d = max(via_router), max(on_shard)
        print(
            f"single-shard txn updates/s: router {r:7.0f}   shard directly {d:7.0f}   "
            f"router/shard {100 * r / d:5.1f}%  (goal >= 60%)"
        )
        one, trips_one = commit_cost(cluster, router, [1], args.commits)
        two, trips_two = commit_cost(cluster, router, [1, 101], args.commits)
        print(
            f"commit, 1 shard : {one * 1e3:6.2f} ms median, {trips_one:.0f} router-shard "
            "round trips (commitTransaction)"
        )
        print(
            f"commit, 2 shards: {two * 1e3:6.2f} ms median, {trips_two:.0f} router-shard "
            "round trips (prepareTransaction and commitTransaction to each)"
        )
        print(f"two-phase commit adds {(two - one) * 1e3:.2f} ms ({two / one:.1f}x)")
    finally:
        direct.close()
        router.close()
        cluster.stop()


if __name__ == "__main__":
    main()

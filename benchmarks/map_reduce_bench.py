"""mapReduce benchmark: prints figures (issue 17). Not a test: no asserts on time.

python benchmarks/map_reduce_bench.py [--docs 10000]

The first mapReduce of a process loads V8 (engine/js.py); later ones open an isolate each.
While a runaway map function runs, pings from another client are timed: the JavaScript runs
on V8's thread, not on the sandbox's event loop.
"""

from __future__ import annotations

import argparse
import threading
import time

from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mongotx_sandbox import ThreadedSandbox

MAP = "function() { this.text.split(' ').forEach(function(w) { emit(w, 1); }); }"
REDUCE = "function(k, vs) { return Array.sum(vs); }"


def word_count(client: MongoClient) -> float:
    t0 = time.perf_counter()
    client.bench.words.database.command(
        "mapReduce", "words", map=MAP, reduce=REDUCE, out={"inline": 1}
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    args = parser.parse_args()
    with ThreadedSandbox() as uri, MongoClient(uri) as client:
        client.bench.words.insert_many(
            [
                {"text": f"the quick brown fox {i % 100} jumps over the lazy dog"}
                for i in range(args.docs)
            ]
        )
        first = word_count(client)
        warm = sorted(word_count(client) for _ in range(5))[2]
        client.bench.spin.insert_one({"x": 1})

        def runaway() -> None:
            try:
                client.bench.command(
                    "mapReduce",
                    "spin",
                    map="function() { while (true) {} }",
                    reduce=REDUCE,
                    out={"inline": 1},
                    maxTimeMS=3000,
                )
            except OperationFailure:
                pass

        thread = threading.Thread(target=runaway)
        thread.start()
        with MongoClient(uri) as other:
            other.admin.command("ping")
            pings = []
            while thread.is_alive() and len(pings) < 2000:
                t0 = time.perf_counter()
                other.admin.command("ping")
                pings.append(time.perf_counter() - t0)
        thread.join()
    pings.sort()
    print(f"| measure ({args.docs:,} documents, 9 words each) | figure |")
    print("| --- | --- |")
    print(f"| first mapReduce word count (loads V8) | {first * 1000:.0f} ms |")
    print(f"| later mapReduce word count, median of 5 | {warm * 1000:.0f} ms |")
    if pings:
        p50, p99 = pings[len(pings) // 2], pings[int(len(pings) * 0.99)]
        print(
            f"| ping while a runaway map runs ({len(pings)} pings) | p50 {p50 * 1e6:.0f} µs, "
            f"p99 {p99 * 1e6:.0f} µs |"
        )


if __name__ == "__main__":
    main()

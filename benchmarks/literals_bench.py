"""Editor literal parsing benchmark: prints figures (goal in brackets).

    python benchmarks/literals_bench.py [--kb 300] [--runs 5]

A document of about `--kb` KB as a user pastes it from mongosh (unquoted keys, single
quotes, ObjectId()/ISODate()/NumberLong() constructors, nested arrays and documents) and
the same document as strict JSON, then:

1. parse_value (what the editor runs on every change and once more on F10)   [≤ 1 s]
   with its stages: the one-pass translation to JSON, and the C JSON reader with the
   Extended JSON hook; and, for comparison, json5's complete reader (the path errors and
   unusual input take; it was the only path before: 4.5 s of a 3.6 s "took" on 329 KB)
2. the whole way from F10 to the operation sent: the editor's check, the queued
   OpSpec's checks (every render) and its values (the step); the spec parses once
3. in the workbench on the sandbox: the 300 KB insert queued and stepped; `took` (the
   lane's figure) is the server round trip, parsed before its clock starts
"""

from __future__ import annotations

import argparse
import statistics
import time


def mongosh_doc(kb: int) -> str:
    rows = []
    i = 0
    size = 0
    while size < kb * 1024:
        row = (
            f"  {{_id: ObjectId('{i:024x}'), name: 'user {i}', tags: ['a', 'b', \"c\"], "
            f"joined: ISODate('2024-01-{i % 28 + 1:02d}T10:00:00Z'), visits: NumberLong({i}), "
            f"score: {i * 0.5}, active: {'true' if i % 2 else 'false'}, note: null,"
            f" address: {{city: 'Paris', zip: '750{i % 20:02d}'}}}},  // row {i}\n"
        )
        rows.append(row)
        size += len(row)
        i += 1
    return "{_id: 'big', rows: [\n" + "".join(rows) + "],\n}"


def strict_json(kb: int) -> str:
    import json

    rows = [
        {"_id": i, "name": f"user {i}", "tags": ["a", "b"], "score": i * 0.5, "ok": True}
        for i in range(kb * 1024 // 70)
    ]
    return json.dumps({"_id": "big", "rows": rows})


def timed(fn, runs: int) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from mongotx_tui.model import literals
    from mongotx_tui.model.ops import OpSpec, validate_field

    for label, text in (
        ("mongosh-style", mongosh_doc(args.kb)),
        ("strict JSON", strict_json(args.kb)),
    ):
        print(f"{label}: {len(text) / 1024:.0f} KB")
        ms, value = timed(lambda t=text: literals.parse_value(t), args.runs)
        print(f"  parse_value                     {ms:8.1f} ms   [≤ 1000 ms]")
        ms_tj, as_json = timed(lambda t=text: literals._to_json(t), args.runs)
        print(f"    one pass to JSON              {ms_tj:8.1f} ms")
        import json

        hook = literals._ext_json_hook()
        ms_rd, _ = timed(lambda j=as_json, h=hook: json.loads(j, object_pairs_hook=h), args.runs)
        print(f"    C JSON reader + Extended JSON {ms_rd:8.1f} ms")
        ms_j5, slow = timed(lambda t=text: literals._parse_json5(t), 1)
        print(f"  json5's complete reader (errors, unusual input) {ms_j5:8.1f} ms")
        assert slow == value, "the fast path must read what json5 reads"

        def accept(t=text):
            # F10: the editor checks every field, builds the spec; the lane renders it
            # (errors) and the step sends its values
            validate_field("document", t)
            spec = OpSpec.new("insert", document=t)
            spec.errors()
            spec.errors()
            return spec.values()

        ms, _ = timed(accept, args.runs)
        print(f"  F10 → values sent (editor check, queue, render, step) {ms:8.1f} ms")
        assert isinstance(value, dict)


async def workbench_took(kb: int) -> None:
    from mongotx_tui.backend.workbench import Workbench
    from mongotx_tui.model.ops import OpSpec

    wb = Workbench()
    await wb.connect()
    try:
        lane = wb.lanes[0]
        spec = OpSpec.new("insert", collection="big", document=mongosh_doc(kb))
        t0 = time.perf_counter()
        spec.errors()  # what the editor and the queue's render do once the text is in
        parsed = (time.perf_counter() - t0) * 1000
        item = wb.enqueue(lane.id, spec)
        t0 = time.perf_counter()
        await wb.step(lane.id)
        wall = (time.perf_counter() - t0) * 1000
        assert item.error is None, item.error
        print(f"workbench, {kb} KB insert: parsed when queued {parsed:.1f} ms; step {wall:.1f} ms")
        print(f"  took shown on the lane (server round trip)   {item.duration_ms:8.1f} ms")
    finally:
        await wb.close()


if __name__ == "__main__":
    main()
    import asyncio

    asyncio.run(workbench_took(300))

"""Proxy benchmark (issue 12 item 4): a pymongo client straight to a sandbox vs through
`mongotx-tui proxy`, each on its own process. Prints figures; asserts nothing.

python benchmarks/proxy_bench.py [--rtt 3000] [--seconds 5] [--idle 1000]

Goals: the proxy adds at most 100 µs to a round trip's p50; transactional updates through
it reach at least 90% of direct; the memory of 1,000 idle client connections is printed.
The proxy runs as a user runs it headless (`mongotx-tui proxy`, its lines to a file); its
CPU time per round trip is printed too, as the part of the added time that is its own work
(on a busy machine the rest is three processes waiting for a core). So is the floor: the
same figures through benchmarks/relay_floor.py, a relay that only copies bytes, as cheap
as a Python fourth hop gets; judge the proxy against it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import bson
from pymongo import MongoClient


def family(pid: int) -> list[int]:
    """A process and its children (the proxy forwards in a child process of its own)."""
    pids = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids.extend(int(p) for p in f.read().split())
        except OSError:
            pass  # the thread ended meanwhile
    return pids


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children."""
    pages = 0
    for p in family(pid):
        with open(f"/proc/{p}/statm") as f:
            pages += int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its children have used."""
    ticks = 0
    for p in family(pid):
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def start_proxy(uri: str, out: str) -> tuple[subprocess.Popen[str], str]:
    """The headless proxy, its one line per statement going to a file (as a user would
    redirect it); returns once it listens."""
    log = open(out, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_tui", "proxy", uri, "--listen", "127.0.0.1:0"],
        stdout=log,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(out) as f:
            for line in f:
                if "listening on" in line:
                    return proc, line.split("listening on ")[1].split(",")[0]
        time.sleep(0.05)
    raise SystemExit("the proxy did not start")


def start_relay(uri: str, flags: list[str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """The minimal relay (the floor) in front of the sandbox; returns once it listens."""
    upstream = uri.split("//", 1)[1].split("/", 1)[0].split(",")[0]
    relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay_floor.py")
    proc = subprocess.Popen(
        [sys.executable, relay, upstream, *(flags or [])], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split("listening on ")[1].strip()


def percentiles(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """p50 and p95 in microseconds over n calls (after 200 warm-up calls)."""
    for _ in range(200):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[n // 2] * 1e6, samples[int(n * 0.95)] * 1e6


def txn_rate(client: MongoClient, seconds: float) -> float:
    coll = client.bench.txn
    coll.update_one({"_id": 1}, {"$set": {"n": 0}}, upsert=True)
    done = 0
    end = time.perf_counter() + seconds
    with client.start_session() as s:
        while time.perf_counter() < end:
            s.start_transaction()
            coll.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=s)
            s.commit_transaction()
            done += 1
    return done / seconds


def idle_connections(address: str, count: int, pid: int) -> tuple[float, float]:
    """The proxy's RSS before and after `count` client connections that each said hello
    once and then stay idle."""
    host, port = address.rsplit(":", 1)
    body = struct.pack("<I", 0) + b"\x00" + bson.encode({"hello": 1, "$db": "admin"})
    hello = struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body  # OP_MSG
    before = rss_mb(pid)
    socks = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=30)
        s.sendall(hello)
        socks.append(s)
    for s in socks:  # every connection answered: the proxy holds its upstream side too
        length = int.from_bytes(s.recv(4, socket.MSG_WAITALL), "little")
        s.recv(length - 4, socket.MSG_WAITALL)
    after = rss_mb(pid)
    for s in socks:
        s.close()
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=int, default=3000, help="round trips per figure")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per txn rate")
    parser.add_argument("--idle", type=int, default=1000, help="idle client connections")
    args = parser.parse_args()
    sandbox, uri = start_sandbox()
    with tempfile.TemporaryDirectory() as tmp:
        proxy, address = start_proxy(uri, os.path.join(tmp, "proxy.log"))
        relay, relay_address = start_relay(uri)
        try:
            run(uri, address, proxy.pid, relay_address, relay.pid, args)
        finally:
            relay.kill()
            relay.wait(timeout=30)
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=30)
            sandbox.send_signal(signal.SIGTERM)
            sandbox.wait(timeout=30)


def run(
    uri: str,
    address: str,
    proxy_pid: int,
    relay_address: str,
    relay_pid: int,
    args: argparse.Namespace,
) -> None:
    direct = MongoClient(uri)
    through = MongoClient(f"mongodb://{address}/?replicaSet=rs0")
    floor = MongoClient(f"mongodb://{relay_address}/?directConnection=true")
    through.bench.find_one_doc.replace_one({"_id": 1}, {"_id": 1, "v": "x" * 100}, upsert=True)
    rows: list[tuple[str, str, str, str]] = []
    cpu: dict[str, float] = {}
    floor_rows: list[tuple[str, str, str, str]] = []
    for what, call in (
        ("ping", lambda c: c.admin.command("ping")),
        ("find_one", lambda c: c.bench.find_one_doc.find_one({"_id": 1})),
    ):
        d50, d95 = percentiles(lambda c=direct, f=call: f(c), args.rtt)
        cpu0 = cpu_seconds(proxy_pid)
        p50, p95 = percentiles(lambda c=through, f=call: f(c), args.rtt)
        cpu[what] = (cpu_seconds(proxy_pid) - cpu0) / (args.rtt + 200) * 1e6
        cpu0 = cpu_seconds(relay_pid)
        f50, f95 = percentiles(lambda c=floor, f=call: f(c), args.rtt)
        cpu["floor " + what] = (cpu_seconds(relay_pid) - cpu0) / (args.rtt + 200) * 1e6
        rows.append(
            (
                f"{what} round trip p50 / p95",
                f"{d50:.0f} / {d95:.0f} µs",
                f"{p50:.0f} / {p95:.0f} µs",
                f"+{p50 - d50:.0f} µs p50 (goal ≤ +100)",
            )
        )
        floor_rows.append(
            (
                f"  floor: {what} through relay_floor.py",
                "",
                f"{f50:.0f} / {f95:.0f} µs",
                f"+{f50 - d50:.0f} µs p50",
            )
        )
    rows.extend(floor_rows)
    rows.append(
        (
            "proxy CPU per round trip, both processes (ping, find_one)",
            "",
            f"{cpu['ping']:.0f}, {cpu['find_one']:.0f} µs",
            "forwarding, decoding, the printed line; the rest of the added time is waiting",
        )
    )
    rows.append(
        (
            "  floor: relay CPU per round trip",
            "",
            f"{cpu['floor ping']:.0f}, {cpu['floor find_one']:.0f} µs",
            "copying bytes only",
        )
    )
    d_rate = txn_rate(direct, args.seconds)
    p_rate = txn_rate(through, args.seconds)
    f_rate = txn_rate(floor, args.seconds)
    rows.append(
        (
            "transactional updates/s (update + commit)",
            f"{d_rate:.0f}",
            f"{p_rate:.0f}",
            f"{100 * p_rate / d_rate:.0f}% of direct (goal ≥ 90%)",
        )
    )
    rows.append(
        ("  floor: through relay_floor.py", "", f"{f_rate:.0f}", f"{100 * f_rate / d_rate:.0f}%")
    )
    floor.close()
    direct.close()
    through.close()
    before, after = idle_connections(address, args.idle, proxy_pid)
    rows.append(
        (
            f"proxy RSS, {args.idle:,} idle client connections",
            "",
            f"{before:.0f} → {after:.0f} MB",
            f"{1e3 * (after - before) / args.idle:.1f} KB per connection",
        )
    )
    head = ("figure", "direct", "through the proxy", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()

"""The relay designs of benchmarks/relay_floor.py side by side, and the proxy itself, in
front of one sandbox on its own process; the targets take turns in short rounds, so that
the load of a shared machine falls on all of them alike. Prints figures; asserts nothing.

python benchmarks/relay_bench.py [--rounds 6] [--rtt 500] [--seconds 1] [--modes ...] [--proxy]

Per target: the ping p50 it adds and its p95, the relay's CPU per round trip (from
/proc), and its transactional updates/s as a share of direct in the same round (median
and range over the rounds). `--modes uvloop` needs uvloop installed (benchmark only);
`--modes socat` needs socat (Debian's package): a relay in C, one process per connection,
to tell the cost of a fourth hop on this machine from the cost of writing it in Python.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

from proxy_bench import cpu_seconds, percentiles, start_proxy, start_relay, start_sandbox, txn_rate
from pymongo import MongoClient

try:
    import uvloop  # noqa: F401  (benchmark only: the proxy does not use it)

    MODES: tuple[str, ...] = ("threads", "asyncio", "uvloop", "selector")
except ImportError:
    MODES = ("threads", "asyncio", "selector")
if shutil.which("socat"):
    MODES = (*MODES, "socat")


def start_socat(uri: str) -> tuple[subprocess.Popen[str], str]:
    """socat in front of the sandbox (TCP_NODELAY both ways, as the Python relays set it);
    returns once it accepts connections."""
    upstream = uri.split("//", 1)[1].split("/", 1)[0].split(",")[0]
    with socket.socket() as probe:  # a free port (socat prints none of its own)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            "socat",
            f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,nodelay",
            f"TCP:{upstream},nodelay",
        ],
        text=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("socat did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--rtt", type=int, default=500, help="pings per round")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds of txns per round")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--proxy", action="store_true", help="the headless proxy too")
    args = parser.parse_args()
    sandbox, uri = start_sandbox()
    procs: list[subprocess.Popen[str]] = []
    targets: dict[str, tuple[MongoClient, int | None]] = {"direct": (MongoClient(uri), None)}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for mode in args.modes.split(","):
                if mode == "socat":
                    proc, address = start_socat(uri)
                else:
                    proc, address = start_relay(uri, [] if mode == "threads" else [f"--{mode}"])
                procs.append(proc)
                client = MongoClient(f"mongodb://{address}/?directConnection=true")
                # socat forks a process per connection: its CPU is not the listener's.
                targets[mode] = (client, None if mode == "socat" else proc.pid)
            if args.proxy:
                proc, address = start_proxy(uri, os.path.join(tmp, "proxy.log"))
                procs.append(proc)
                client = MongoClient(f"mongodb://{address}/?replicaSet=rs0")
                targets["proxy"] = (client, proc.pid)
            run(targets, args)
        finally:
            for c, _ in targets.values():
                c.close()
            for p in procs:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
            sandbox.send_signal(signal.SIGTERM)
            sandbox.wait(timeout=30)


def run(targets: dict[str, tuple[MongoClient, int | None]], args: argparse.Namespace) -> None:
    names = list(targets)
    added: dict[str, list[float]] = {n: [] for n in names}
    p95: dict[str, list[float]] = {n: [] for n in names}
    ratio: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        p50s: dict[str, float] = {}
        rates: dict[str, float] = {}
        for name in order:
            client, pid = targets[name]
            c0 = cpu_seconds(pid) if pid else 0.0
            p50s[name], q95 = percentiles(lambda c=client: c.admin.command("ping"), args.rtt)
            if pid:
                cpu[name].append((cpu_seconds(pid) - c0) / (args.rtt + 200) * 1e6)
            p95[name].append(q95)
            rates[name] = txn_rate(client, args.seconds)
        for name in names:
            added[name].append(p50s[name] - p50s["direct"])
            ratio[name].append(rates[name] / rates["direct"])
        print(
            f"round {r + 1}: direct ping p50 {p50s['direct']:.0f} µs, "
            f"{rates['direct']:.0f} txn/s; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    print(
        f"{'target':10} {'ping +p50 µs':>13} {'ping p95 µs':>12} {'CPU/rt µs':>10} "
        f"{'txn % of direct (median, min-max)':>34}"
    )
    for name in names:
        rs = ratio[name]
        c = f"{statistics.median(cpu[name]):.0f}" if cpu[name] else "-"
        print(
            f"{name:10} {statistics.median(added[name]):>+13.0f} "
            f"{statistics.median(p95[name]):>12.0f} {c:>10} "
            f"{100 * statistics.median(rs):>20.0f}% ({100 * min(rs):.0f}-{100 * max(rs):.0f})"
        )


if __name__ == "__main__":
    main()

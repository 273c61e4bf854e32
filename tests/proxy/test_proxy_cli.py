"""`mongotx-tui proxy` stops on ctrl+c even where it was started with SIGINT ignored (a
shell script's background job), and writes its capture then."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import yaml
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox

from .conftest import wait_until


def _run_proxy(uri: str, record: Path, work, *flags: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Start the CLI proxy as a background job would (SIGINT ignored), run `work(address)`
    through it, ctrl+c; its output lines."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_tui", "proxy", uri,
         "--listen", "127.0.0.1:0", "--record", str(record), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        line = wait_until(lambda: next((x for x in out if "listening on" in x), None))
        work(str(line).split("listening on ")[1].split(",")[0])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # it ignored ctrl+c: leave no proxy behind
            proc.wait(timeout=60)
        reader.join(timeout=30)
    assert proc.returncode == 0
    return out


def test_ctrl_c_in_a_background_job_writes_the_capture(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    def work(address: str) -> None:
        client: MongoClient = MongoClient(f"mongodb://{address}/?replicaSet=rs0")
        try:
            client.bg.items.insert_one({"_id": 1})
        finally:
            client.close()

    record = tmp_path / "bg.yaml"
    out = _run_proxy(sandbox.uri, record, work)
    assert "insert" in record.read_text()
    assert any("proxy: stopped" in x for x in out)


def test_fetch_setup_reads_what_the_statements_touched(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    direct: MongoClient = MongoClient(sandbox.uri)
    direct.fetched.items.drop()
    direct.fetched.items.insert_many([{"_id": i, "qty": i} for i in range(3)])
    direct.close()

    def work(address: str) -> None:
        client: MongoClient = MongoClient(f"mongodb://{address}/?replicaSet=rs0")
        try:
            client.fetched.items.update_one({"_id": 2}, {"$inc": {"qty": 5}})
        finally:
            client.close()

    record = tmp_path / "fetched.yaml"
    _run_proxy(sandbox.uri, record, work, "--fetch-setup")
    data = yaml.safe_load(record.read_text())
    assert data["setup"]["documents"] == [{"_id": 2, "qty": 7}]  # as it is at save time
    assert "fetched from the upstream" in data["description"]

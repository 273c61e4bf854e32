"""`mongotx-tui proxy` stops on ctrl+c even where it was started with SIGINT ignored (a
shell script's background job), and writes its capture then."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox

from .conftest import wait_until


def test_ctrl_c_in_a_background_job_writes_the_capture(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    record = tmp_path / "bg.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_tui", "proxy", sandbox.uri,
         "--listen", "127.0.0.1:0", "--record", str(record)],
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
        address = str(line).split("listening on ")[1].split(",")[0]
        client: MongoClient = MongoClient(f"mongodb://{address}/?replicaSet=rs0")
        try:
            client.bg.items.insert_one({"_id": 1})
        finally:
            client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # it ignored ctrl+c: leave no proxy behind
            proc.wait(timeout=60)
        reader.join(timeout=30)
    assert proc.returncode == 0
    assert "insert" in record.read_text()
    assert any("proxy: stopped" in x for x in out)

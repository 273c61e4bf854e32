"""No password or SASL payload in any record, printed line or capture file: a real SCRAM
conversation with an --auth sandbox passes through the proxy untouched and is redacted
only in what the proxy observes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui.backend.proxy import start_proxy
from mongotx_tui.backend.proxy.collect import Collector
from mongotx_tui.backend.proxy.observe import REDACTED
from mongotx_tui.backend.proxy.printer import LinePrinter, statement_line
from mongotx_tui.scenario.capture import capture_data
from mongotx_tui.scenario.save import dump

from ..sandbox.auth_helpers import login_uri, start_auth_sandbox
from .conftest import wait_until
from .sample_app import run_sync

USER, PASSWORD, NEW_PASSWORD = "app", "hunter2-Xq9", "newpass-Zr4"
SECRETS = (PASSWORD, NEW_PASSWORD)
SASL = ("saslStart", "saslContinue")


@pytest.fixture(scope="module")
def scram() -> Iterator[ThreadedSandbox]:
    """A sandbox with access control on and one root user."""
    server = start_auth_sandbox([(USER, PASSWORD)])
    yield server
    server.stop()


def _converse(address: str) -> None:
    """Log in through the proxy with both SCRAM mechanisms (pymongo's handshake carries
    speculativeAuthenticate), change the password, and log in with the new one."""
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        uri = login_uri(f"mongodb://{address}/?directConnection=true", USER, PASSWORD)
        with MongoClient(uri, authMechanism=mechanism, serverSelectionTimeoutMS=10_000) as c:
            c.admin.command("ping")
    uri = login_uri(f"mongodb://{address}/?directConnection=true", USER, PASSWORD)
    with MongoClient(uri, serverSelectionTimeoutMS=10_000) as c:
        c.admin.command("updateUser", USER, pwd=NEW_PASSWORD)
        c.admin.command("updateUser", USER, pwd=PASSWORD)  # the next login uses it again
    # saslStart without speculative authentication: a client told the mechanism up front
    # still sends it in hello; a wrong password makes the server answer 18 in saslContinue.
    bad = login_uri(f"mongodb://{address}/?directConnection=true", USER, NEW_PASSWORD)
    with MongoClient(bad, serverSelectionTimeoutMS=10_000) as c:
        with pytest.raises(Exception, match="Authentication failed"):
            c.admin.command("ping")


def test_sasl_passes_untouched_and_is_redacted(scram: ThreadedSandbox) -> None:
    collector = Collector()
    lines: list[str] = []
    printer = LinePrinter(lines.append)
    with start_proxy(scram.uri, ("127.0.0.1", 0), [collector, printer]) as h:
        _converse(h.address)  # the logins succeed: the conversation went through as is
    printer.drain()
    lines = "\n".join(lines).splitlines()
    records = collector.records()
    names = {r.name.lower() for r in records}
    assert {"ismaster", "updateuser"} <= names  # pymongo's handshake is a legacy isMaster
    hellos = [r for r in records if r.name.lower() in ("hello", "ismaster")]
    assert any(r.command.get("speculativeAuthenticate") == REDACTED for r in hellos)
    assert any(
        r.reply is not None and r.reply.get("speculativeAuthenticate") == REDACTED for r in hellos
    )
    sasl = [r for r in records if r.name in SASL]
    assert sasl and all(r.command == {r.name: REDACTED, "$db": "admin"} for r in sasl)
    assert any(r.reply is not None and r.reply.get("code") == 18 for r in sasl)
    updates = [r for r in records if r.name == "updateUser"]
    assert all(r.command.get("pwd") in (None, REDACTED) for r in updates)
    seen = repr(records) + "\n".join(lines) + "\n".join(statement_line(r) for r in records)
    seen += dump(capture_data(records))
    for secret in SECRETS:
        assert secret not in seen
    # The SCRAM messages themselves (client-first "n,,n=app,r=…", server-first "r=…,s=…")
    for marker in ("n,,n=", ",s=", ",p=", "v="):
        assert marker not in seen


def _read_lines(stream, into: list[str]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        into.append(line)


def test_cli_records_without_secrets_and_the_capture_replays(
    scram: ThreadedSandbox, tmp_path: Path
) -> None:
    """`mongotx-tui proxy` with a user:password URI, the sample application and a SASL
    conversation through it, ctrl+c: the capture file is written, replays, and nothing it
    printed or wrote holds a secret."""
    host = scram.uri.split("//")[1].split("/")[0]
    record = tmp_path / "capture.yaml"
    cmd = [
        sys.executable,
        "-m",
        "mongotx_tui",
        "proxy",
        f"mongodb://{USER}:{PASSWORD}@{host}/?replicaSet=rs0",
        "--listen",
        "127.0.0.1:0",
        "--record",
        str(record),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=_read_lines, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=_read_lines, args=(proc.stderr, err), daemon=True),
    ]
    for t in readers:
        t.start()
    try:
        line = wait_until(lambda: next((x for x in out if "listening on" in x), None))
        address = str(line).split("listening on ")[1].split(",")[0]
        _converse(address)
        run_sync(login_uri(f"mongodb://{address}/?replicaSet=rs0", USER, PASSWORD))
        wait_until(lambda: any("find proxyapp.accounts" in x for x in out))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # leave no proxy behind
            proc.wait(timeout=60)
        for t in readers:
            t.join(timeout=30)
    assert proc.returncode == 0, "".join(err)
    printed = "".join(out) + "".join(err)
    assert "plain TCP" in printed and f"{USER}:****@" in printed
    assert any("WriteConflict" in x for x in out)
    text = record.read_text()
    for secret in SECRETS:
        assert secret not in printed and secret not in text
    replay = subprocess.run(
        [sys.executable, "-m", "mongotx_tui", "run", str(record)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr


def test_cli_refuses_a_bad_uri_and_a_taken_port(scram: ThreadedSandbox) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "mongotx_tui", "proxy", "mongodb://u:hunter2@/x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "hunter2" not in bad.stderr
    port = scram.uri.split(":")[2].split("/")[0]  # the sandbox holds this port
    taken = subprocess.run(
        [sys.executable, "-m", "mongotx_tui", "proxy", scram.uri, "--listen", f"127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert taken.returncode == 2 and "cannot listen" in taken.stderr
    assert "Traceback" not in taken.stderr
    client: MongoClient = MongoClient(scram.uri, serverSelectionTimeoutMS=10_000)
    client.close()

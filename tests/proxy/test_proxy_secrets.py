"""No password or SASL payload in any record, printed line or capture file: the SCRAM
conversation passes through untouched and is redacted only in what the proxy observes.

The sandbox has no authentication yet, so a handler answers the SASL commands the way a
server does (a payload in each reply); the end-to-end SCRAM run waits on the sandbox's
--auth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bson.binary import Binary
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox, dispatch
from mongotx_tui.backend.proxy import start_proxy
from mongotx_tui.backend.proxy.collect import Collector
from mongotx_tui.backend.proxy.printer import LinePrinter, statement_line
from mongotx_tui.scenario.capture import capture_data
from mongotx_tui.scenario.save import dump

from ..sandbox.rawclient import RawClient
from .conftest import wait_until
from .sample_app import run_sync

SECRETS = ("hunter2", "CLIENTNONCE", "CLIENTPROOF", "SERVERNONCE", "SPECNONCE", "NEWPASSWORD")


@pytest.fixture(scope="module")
def scram() -> Iterator[ThreadedSandbox]:
    """A sandbox answering saslStart/saslContinue and speculativeAuthenticate with
    payloads, as an authenticating server does."""

    async def handler(state, conn, request):  # type: ignore[no-untyped-def]
        name = next(iter(request.body), "")
        if name in ("saslStart", "saslContinue"):
            return {
                "ok": 1,
                "conversationId": 1,
                "done": name == "saslContinue",
                "payload": Binary(b"r=SERVERNONCE,s=c2FsdA==,i=4096"),
            }
        reply = await dispatch.handle(state, conn, request)
        if name.lower() in ("hello", "ismaster") and "speculativeAuthenticate" in request.body:
            reply = {**reply, "speculativeAuthenticate": {"payload": Binary(b"SERVERNONCE")}}
        return reply

    server = ThreadedSandbox(handler=handler)
    server.start()
    yield server
    server.stop()


def _converse(address: str) -> list[dict[str, Any]]:
    raw = RawClient(f"mongodb://{address}")
    try:
        spec = {
            "saslStart": 1,
            "mechanism": "SCRAM-SHA-256",
            "db": "admin",
            "payload": Binary(b"n,,n=app,r=SPECNONCE"),
        }
        return [
            raw.command({"hello": 1, "speculativeAuthenticate": spec, "$db": "admin"}),
            raw.command(
                {
                    "saslStart": 1,
                    "mechanism": "SCRAM-SHA-256",
                    "payload": Binary(b"n,,n=app,r=CLIENTNONCE"),
                    "$db": "admin",
                }
            ),
            raw.command(
                {
                    "saslContinue": 1,
                    "conversationId": 1,
                    "payload": Binary(b"c=biws,r=CLIENTNONCE,p=CLIENTPROOF"),
                    "$db": "admin",
                }
            ),
            raw.command({"updateUser": "app", "pwd": "NEWPASSWORD", "$db": "admin"}),
        ]
    finally:
        raw.close()


def test_sasl_passes_untouched_and_is_redacted(scram: ThreadedSandbox) -> None:
    collector = Collector()
    lines: list[str] = []
    printer = LinePrinter(lines.append)
    with start_proxy(scram.uri, ("127.0.0.1", 0), [collector, printer]) as h:
        replies = _converse(h.address)
    printer.drain()
    lines = "\n".join(lines).splitlines()
    assert any(line.endswith("ms") and "saslContinue" in line for line in lines)
    # Forwarded as is: the client saw the server's payloads.
    assert replies[0]["speculativeAuthenticate"]["payload"] == b"SERVERNONCE"
    assert replies[1]["payload"] == b"r=SERVERNONCE,s=c2FsdA==,i=4096"
    records = collector.records()
    assert {r.name for r in records} >= {"hello", "saslStart", "saslContinue", "updateUser"}
    sasl = [r for r in records if r.name.startswith("sasl")]
    assert all(r.reply is not None and r.reply.get("ok") == 1 for r in sasl)
    seen = repr(records) + "\n".join(lines) + "\n".join(statement_line(r) for r in records)
    seen += dump(capture_data(records))
    for secret in SECRETS:
        assert secret not in seen


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
        f"mongodb://app:hunter2@{host}/?replicaSet=rs0",
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
        run_sync(f"mongodb://{address}/?replicaSet=rs0")
        wait_until(lambda: any("find proxyapp.accounts" in x for x in out))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        for t in readers:
            t.join(timeout=30)
    assert proc.returncode == 0, "".join(err)
    printed = "".join(out) + "".join(err)
    assert "plain TCP" in printed and "app:****@" in printed
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

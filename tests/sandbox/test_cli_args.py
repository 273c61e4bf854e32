"""`mongotx-sandbox` arguments: a bad port or host is a usage message, not a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from pymongo import MongoClient


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mongotx_sandbox", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "args,words",
    [
        (["--port", "99999"], "argument --port: 99999 is not a port number (0-65535)"),
        (["--port", "-1"], "argument --port: -1 is not a port number (0-65535)"),
        (["--port", "http"], "argument --port: 'http' is not a port number (0-65535)"),
        (["--host", "a_b"], "argument --host: 'a_b' is not an IP address or a host name"),
        (["--host", "a b"], "argument --host: 'a b' is not an IP address or a host name"),
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str], words: str) -> None:
    proc = sandbox(*args)
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("usage: mongotx-sandbox")


def test_a_host_that_does_not_resolve_says_so() -> None:
    proc = sandbox("--host", "no-such-host.invalid", "--port", "0")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("mongotx-sandbox: cannot listen on no-such-host.invalid:0: ")


def test_ipv6_host_gives_a_uri_drivers_accept() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--host", "::1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        assert uri.startswith("mongodb://[::1]:"), uri + (proc.stderr.read() if proc.stderr else "")
        with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            assert client.admin.command("ping")["ok"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_interface_prints_the_real_address_and_warns() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        port = int(uri.rsplit(":", 1)[1].split("/")[0])
        with MongoClient("127.0.0.1", port, directConnection=True) as client:
            assert client.admin.command("ping")["ok"] == 1
    finally:
        proc.terminate()
        _, errors = proc.communicate(timeout=10)
    name = socket.gethostname().lower()
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        name = "127.0.0.1"  # a host name that does not resolve is not offered
    assert uri.startswith(f"mongodb://{name}:"), uri
    assert errors.startswith("mongotx-sandbox: warning: listening on every interface"), errors
    assert "no authentication" in errors

"""Upstreams other than one plain member: a TLS upstream (the URI's TLS options), and a
replica set of several members, each mapped onto a proxy port of its own."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from mongotx_sandbox import ThreadedSandbox, dispatch
from mongotx_tui.backend.proxy import start_proxy

from .conftest import Notices


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory: pytest.TempPathFactory, sandbox: ThreadedSandbox) -> Iterator:  # type: ignore[type-arg]
    """A TLS endpoint (self-signed certificate for 127.0.0.1) in front of the sandbox."""
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    target = sandbox.uri.split("//")[1].split("/")[0].rsplit(":", 1)
    loop = asyncio.new_event_loop()
    handshakes: list[bool] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handshakes.append(writer.get_extra_info("ssl_object") is not None)
        up_reader, up_writer = await asyncio.open_connection(target[0], int(target[1]))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = loop.run_until_complete(asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{port}", cert, handshakes
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)


def test_tls_upstream(tls_upstream, notices: Notices) -> None:  # type: ignore[no-untyped-def]
    address, cert, handshakes = tls_upstream
    uri = f"mongodb://{address}/?directConnection=true&tls=true&tlsCAFile={cert}"
    with start_proxy(uri, ("127.0.0.1", 0), [notices]) as handle:
        assert handle.upstream.tls is not None
        client: MongoClient = MongoClient(
            handle.app_uri(direct=True), serverSelectionTimeoutMS=10_000
        )
        try:
            client.test.tls.insert_one({"_id": 1})  # the application speaks plain TCP
            assert client.test.tls.find_one() == {"_id": 1}
        finally:
            client.close()
    assert handshakes and all(handshakes)


def test_tls_upstream_with_an_unknown_certificate(tls_upstream, notices: Notices) -> None:  # type: ignore[no-untyped-def]
    address, _cert, _ = tls_upstream
    with start_proxy(f"mongodb://{address}/?tls=true", ("127.0.0.1", 0), [notices]) as handle:
        client: MongoClient = MongoClient(handle.app_uri(direct=True), serverSelectionTimeoutMS=500)
        try:
            with pytest.raises(ServerSelectionTimeoutError):
                client.admin.command("ping")
        finally:
            client.close()
        down = notices.wait_for(lambda: [n for n in notices.notices if n.kind == "upstream-down"])
        assert "cannot reach the upstream" in down[0].message  # type: ignore[index]


@pytest.fixture(scope="module")
def three_members() -> Iterator[tuple[ThreadedSandbox, list[str]]]:
    """A sandbox whose hello names two more members (a passive and an arbiter, nothing
    listening there), as a member of a bigger set would."""
    others = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]

    async def handler(state, conn, request):  # type: ignore[no-untyped-def]
        reply = await dispatch.handle(state, conn, request)
        if next(iter(request.body), "").lower() in ("hello", "ismaster") and "hosts" in reply:
            reply = {**reply, "passives": [others[0]], "arbiters": [others[1]]}
        return reply

    server = ThreadedSandbox(handler=handler)
    server.start()
    yield server, others
    server.stop()


def test_each_member_gets_a_proxy_port(three_members, notices: Notices) -> None:  # type: ignore[no-untyped-def]
    server, others = three_members
    with start_proxy(server.uri, ("127.0.0.1", 0), [notices]) as handle:
        client: MongoClient = MongoClient(handle.app_uri(), serverSelectionTimeoutMS=10_000)
        try:
            hello = client.admin.command("hello")
            client.test.members.insert_one({})
            members = handle.members
            assert hello["hosts"] == [handle.address]
            assert hello["passives"] == [members[others[0]]]
            assert hello["arbiters"] == [members[others[1]]]
            local = {handle.address, members[others[0]], members[others[1]]}
            assert len(local) == 3 and all(a.startswith("127.0.0.1:") for a in local)
            # The driver knows only proxy addresses, and tries the others through them.
            known = {f"{h}:{p}" for h, p in client.topology_description.server_descriptions()}
            assert known == local
        finally:
            client.close()
        down = notices.wait_for(lambda: [n for n in notices.notices if n.kind == "upstream-down"])
        assert any(o in n.message for o in others for n in down)  # type: ignore[union-attr]


def test_a_member_spelled_otherwise_in_the_uri_keeps_its_port(sandbox: ThreadedSandbox) -> None:
    """The URI says localhost, the member calls itself 127.0.0.1 (`me`): one port, not two."""
    port = sandbox.uri.split("//")[1].split("/")[0].rsplit(":", 1)[1]
    with start_proxy(f"mongodb://localhost:{port}/?replicaSet=rs0", ("127.0.0.1", 0)) as handle:
        client: MongoClient = MongoClient(handle.app_uri(), serverSelectionTimeoutMS=10_000)
        try:
            assert client.admin.command("hello")["hosts"] == [handle.address]
        finally:
            client.close()
        assert handle.members == {
            f"localhost:{port}": handle.address,
            f"127.0.0.1:{port}": handle.address,
        }

"""What the proxy does to frames: compression is never negotiated, moreToCome and exhaust
never wait for a reply, and the proxy survives garbage, disconnects and a dead upstream."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import bson
import pytest
from pymongo import CursorType, MongoClient
from pymongo.errors import ServerSelectionTimeoutError
from pymongo.write_concern import WriteConcern

from mongotx_sandbox import ThreadedSandbox, dispatch
from mongotx_tui.backend.proxy import start_proxy
from mongotx_tui.backend.proxy.collect import Collector

from ..sandbox.rawclient import RawClient
from .conftest import Notices, wait_until


@pytest.fixture
def handshakes() -> Iterator[tuple[ThreadedSandbox, list[dict[str, Any]]]]:
    """A sandbox that keeps every handshake it receives."""
    seen: list[dict[str, Any]] = []

    async def handler(state, conn, request):  # type: ignore[no-untyped-def]
        if next(iter(request.body), "").lower() in ("hello", "ismaster"):
            seen.append(dict(request.body))
        return await dispatch.handle(state, conn, request)

    server = ThreadedSandbox(handler=handler)
    server.start()
    yield server, seen
    server.stop()


def test_compression_is_never_offered_upstream(handshakes) -> None:  # type: ignore[no-untyped-def]
    server, seen = handshakes
    with start_proxy(server.uri, ("127.0.0.1", 0)) as handle:
        client: MongoClient = MongoClient(
            handle.app_uri(), compressors="zlib", serverSelectionTimeoutMS=10_000
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()
        raw = RawClient(f"mongodb://{handle.address}")
        try:
            reply = raw.command({"hello": 1, "compression": ["zlib"], "$db": "admin"})
        finally:
            raw.close()
    assert reply["ok"] == 1 and "compression" not in reply
    assert seen and all("compression" not in h for h in seen)


def test_more_to_come_and_exhaust(proxy, collector: Collector) -> None:  # type: ignore[no-untyped-def]
    client: MongoClient = MongoClient(proxy.app_uri(), serverSelectionTimeoutMS=10_000)
    try:
        coll = client.test.more_to_come
        coll.drop()
        coll.insert_many([{"_id": i} for i in range(10)])
        coll.with_options(write_concern=WriteConcern(w=0)).insert_one({"_id": 10})
        wait_until(lambda: coll.count_documents({}) == 11)
        docs = list(coll.find({}, cursor_type=CursorType.EXHAUST, batch_size=2))
        assert len(docs) == 11
    finally:
        client.close()
    proxy.flush()  # observers are told on the proxy's observation thread
    unacked = [r for r in collector.records() if r.name == "insert" and not r.expects_reply]
    assert len(unacked) == 1 and unacked[0].pending


def _proxy_still_serves(address: str) -> None:
    client: MongoClient = MongoClient(
        f"mongodb://{address}/?directConnection=true", serverSelectionTimeoutMS=10_000
    )
    try:
        assert client.admin.command("ping")["ok"] == 1
    finally:
        client.close()


def test_garbage_bytes_close_that_connection_only(proxy, notices: Notices) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(f"mongodb://{proxy.address}")
    try:
        raw.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.sock.recv(1) == b""  # closed by the proxy
    finally:
        raw.close()
    notices.wait_for(
        lambda: any("not a MongoDB wire message" in n.message for n in notices.notices)
    )
    _proxy_still_serves(proxy.address)


def test_client_gone_mid_message(proxy, notices: Notices) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(f"mongodb://{proxy.address}")
    frame = raw.op_msg({"ping": 1, "$db": "admin"})
    raw.send_raw(frame[:-5])
    raw.close()
    notices.wait_for(lambda: any("middle of a message" in n.message for n in notices.notices))
    _proxy_still_serves(proxy.address)


def test_upstream_down(notices: Notices) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there now
    with start_proxy(f"mongodb://127.0.0.1:{port}/", ("127.0.0.1", 0), [notices]) as handle:
        raw = RawClient(f"mongodb://{handle.address}")
        try:
            raw.send_raw(raw.op_msg({"ping": 1, "$db": "admin"}))
            with pytest.raises(ConnectionError):
                raw.read_reply()  # the client's connection is closed, as by a dead server
        finally:
            raw.close()
        down = notices.wait_for(lambda: [n for n in notices.notices if n.kind == "upstream-down"])
        assert f"cannot reach the upstream 127.0.0.1:{port}" in down[0].message  # type: ignore[index]
        client: MongoClient = MongoClient(handle.app_uri(), serverSelectionTimeoutMS=500)
        try:
            with pytest.raises(ServerSelectionTimeoutError):
                client.admin.command("ping")
        finally:
            client.close()
    failed = [r for r in notices.replies if r.name == "ping"]
    assert failed and failed[0].failure


def test_upstream_gone_mid_reply(notices: Notices) -> None:
    """An upstream that answers half a frame and hangs up: the client's connection closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def half_reply() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            body = bson.encode({"ok": 1})
            frame = (16 + 5 + len(body)).to_bytes(4, "little") + b"\x00" * 12 + b"\x00" * 5 + body
            conn.sendall(frame[:20])

    server = threading.Thread(target=half_reply, daemon=True)
    server.start()
    port = listener.getsockname()[1]
    with start_proxy(f"mongodb://127.0.0.1:{port}/", ("127.0.0.1", 0), [notices]) as handle:
        raw = RawClient(f"mongodb://{handle.address}")
        try:
            raw.send_raw(raw.op_msg({"ping": 1, "$db": "admin"}))
            with pytest.raises(ConnectionError):
                raw.read_reply()
        finally:
            raw.close()
        closed = notices.wait_for(
            lambda: [n for n in notices.notices if n.kind == "upstream-closed"]
        )
        assert "middle of a message" in closed[0].message  # type: ignore[index]
    server.join(timeout=30)
    listener.close()


def test_odd_handshake_is_forwarded_and_answered(proxy, collector: Collector) -> None:  # type: ignore[no-untyped-def]
    """A hello whose `client` is not a document: the upstream answers it, the connection
    stays, and the record is there."""
    raw = RawClient(f"mongodb://{proxy.address}")
    try:
        reply = raw.command({"hello": 1, "client": "not a document", "$db": "admin"})
        assert "ok" in reply
        assert raw.command({"ping": 1, "$db": "admin"})["ok"] == 1
    finally:
        raw.close()
    proxy.flush()
    assert [r.name for r in collector.records()][-2:] == ["hello", "ping"]

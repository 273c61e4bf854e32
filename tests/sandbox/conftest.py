"""Fixtures: a real sandbox on its own thread, real pymongo clients (sync and async); a
sharded sandbox (`cluster`, a module may define its own) and a client of its router."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import AsyncMongoClient, MongoClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.sharding.cluster import ThreadedShardedSandbox

from .rawclient import RawClient
from .sharded import start_cluster


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ThreadedSandbox]:
    server = ThreadedSandbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def uri(sandbox: ThreadedSandbox) -> str:
    return sandbox.uri


@pytest.fixture
def client(uri: str) -> Iterator[MongoClient]:
    c: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=5000)
    yield c
    c.close()


@pytest.fixture
async def aclient(uri: str):  # type: ignore[no-untyped-def]
    c: AsyncMongoClient = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)
    yield c
    await c.close()


@pytest.fixture
def raw(uri: str) -> Iterator[RawClient]:
    c = RawClient(uri)
    yield c
    c.close()


@pytest.fixture
def coll(client: MongoClient, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A fresh collection named after the test."""
    name = request.node.name.replace("[", "_").replace("]", "")[:60]
    c = client.test[name]
    c.drop()
    return c


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThreadedShardedSandbox]:
    c = start_cluster()
    yield c
    c.stop()


@pytest.fixture
def router(cluster: ThreadedShardedSandbox) -> Iterator[MongoClient]:
    c: MongoClient = MongoClient(cluster.uri, serverSelectionTimeoutMS=5000)
    yield c
    c.close()

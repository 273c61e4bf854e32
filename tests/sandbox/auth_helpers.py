"""An --auth sandbox on its own thread, and clients logged in as one of its users."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.auth import enforce

ROOT_USER = "boss"
ROOT_PASSWORD = "root-pw-7Qe"  # the tests grep output for these: keep them distinctive


def start_auth_sandbox(users: list[tuple[str, str]] | None = None) -> ThreadedSandbox:
    server = ThreadedSandbox()
    server.server.state.auth = enforce([(ROOT_USER, ROOT_PASSWORD)] if users is None else users)
    server.start()
    return server


def login_uri(uri: str, user: str, password: str, **options: str) -> str:
    """`uri` with credentials and options (authSource, authMechanism, …)."""
    with_user = uri.replace("mongodb://", f"mongodb://{user}:{password}@", 1)
    extra = "".join(f"&{k}={v}" for k, v in options.items())
    return with_user + extra


@contextmanager
def logged_in(uri: str, user: str, password: str, **options: str) -> Iterator[MongoClient]:
    client: MongoClient[dict[str, Any]] = MongoClient(
        login_uri(uri, user, password, **options), serverSelectionTimeoutMS=5000
    )
    try:
        yield client
    finally:
        client.close()

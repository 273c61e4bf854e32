"""Shared helpers for the workbench tests: the real app against the real sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    """A developer's own config never leaks into tests, and drafts stay in tmp_path."""
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("MONGOTX_TUI_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def router_uri() -> Iterator[str]:
    """A sharded sandbox (two shards) started for the test: its router's URI."""
    from mongotx_tui.backend.connection import start_sharded_sandbox

    cluster, uri = start_sharded_sandbox()
    try:
        yield uri
    finally:
        cluster.stop()

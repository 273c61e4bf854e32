"""Shared helpers for the workbench tests: the real app against the real sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    """A developer's own config never leaks into tests, and drafts stay in tmp_path."""
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("MONGOTX_TUI_DATA_DIR", str(tmp_path / "data"))

"""A real sandbox on its own thread, shared by the scenario tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mongotx_sandbox import ThreadedSandbox


@pytest.fixture(scope="module")
def uri() -> Iterator[str]:
    with ThreadedSandbox() as sandbox_uri:
        yield sandbox_uri

"""Fixtures for the conformance suite: one `Target` for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .target import Target


@pytest.fixture(scope="session")
def conformance_target() -> Iterator[Target]:
    """A fresh sandbox per spec file (or `MONGOTX_TEST_URI`); closed at the end of the run."""
    target = Target()
    yield target
    target.close()

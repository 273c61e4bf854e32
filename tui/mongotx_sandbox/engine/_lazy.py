"""Engine modules loaded on first use: the library adapter (`_lib`, mongomock-ng) and others.

Importing mongomock-ng costs about 80 ms, which sits on the workbench's cold start; most
sessions never evaluate an aggregation expression, so the engine reaches `_lib` through here.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_NAME = "mongotx_sandbox.engine._lib"


class LazyModule:
    """A module of this package imported on the first attribute read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


class _LazyLib(LazyModule):
    def __init__(self) -> None:
        super().__init__(_NAME)

    @staticmethod
    def is_missing_marker(value: Any) -> bool:
        # The library's own "missing" marker exists only once the library has been loaded.
        module = sys.modules.get(_NAME)
        return module is not None and module.is_missing_marker(value)


lib = _LazyLib()

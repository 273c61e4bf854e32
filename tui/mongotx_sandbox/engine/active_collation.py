"""The collation in force for the current engine call (see collation.py).

Apart from collation.py so that the comparison code, which reads it on every call, can run
without loading the collation rules: a session that never uses a collation never needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

StringKey = Callable[[str], Any]

# The string key function of the active collation; None: binary comparison.
ACTIVE: ContextVar[StringKey | None] = ContextVar("mongotx_collation", default=None)

"""Command handlers; importing this package registers them all."""

from . import admin, bulk_write, crud, ddl, failpoint, query, sessions  # noqa: F401
from .registry import COMMANDS, CommandSpec, lookup

__all__ = ["COMMANDS", "CommandSpec", "lookup"]

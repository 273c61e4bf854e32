"""Command handlers. `lookup(name)` imports a handler's module the first time it is needed
(registry.MODULES lists every command), so importing this package loads no handler."""

from .registry import MODULES, CommandSpec, lookup

__all__ = ["MODULES", "CommandSpec", "lookup"]

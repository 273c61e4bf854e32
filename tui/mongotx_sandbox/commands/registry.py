"""The command table: each handler registers its name and what it may do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..access import OpContext

Handler = Callable[["OpContext", dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    in_transaction: bool = False  # may run inside a multi-document transaction
    retryable_write: bool = False  # accepts txnNumber without autocommit
    write: bool = False  # takes a writeConcern
    admin_only: bool = False
    reads: bool = False  # supports readConcern
    informational: bool = False  # accepted in a transaction, but not as its first command


COMMANDS: dict[str, CommandSpec] = {}


def command(name: str, *aliases: str, **flags: bool) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        spec = CommandSpec(name, fn, **flags)
        COMMANDS[name] = spec
        for alias in aliases:
            COMMANDS[alias] = spec
        return fn

    return register


def lookup(name: str) -> CommandSpec | None:
    return COMMANDS.get(name)

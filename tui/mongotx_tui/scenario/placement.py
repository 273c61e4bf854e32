"""Where a scenario runs: its own database on any deployment that is not our sandbox.

Data safety (backend.setup does the dropping): on a deployment reached by a URI a scenario
runs in `mongotx_<database>`, a database the product owns; in the database it names only
when asked (`in_place`), and there a collection holding data is dropped only with consent.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from ..model.naming import MAX_DB_BYTES

if TYPE_CHECKING:
    from .definition import Scenario

PREFIX = "mongotx_"  # databases named so belong to mongotx-tui's scenarios


def run_database(database: str, *, own: bool, in_place: bool = False) -> str:
    """The database a scenario naming `database` runs in. Raises ValueError (clear words)
    when its own database's name would be too long."""
    if own or in_place or database.startswith(PREFIX):
        return database
    name = PREFIX + database
    if len(name.encode()) > MAX_DB_BYTES:
        raise ValueError(
            f"the scenario's database name {database!r} is too long to run in a database of "
            f"its own ({PREFIX}…: at most {MAX_DB_BYTES - len(PREFIX)} bytes); rename it or "
            "run it in place"
        )
    return name


def placed(scenario: Scenario, database: str) -> Scenario:
    """The scenario with its setup (and so its steps) in `database`. Raises ValueError when
    a raw command of its steps names its own database: moved, the command would still act
    there, in the user's database (a sharded lesson's `enableSharding: 'bank'`)."""
    named = scenario.setup.database
    if database == named:
        return scenario
    # A string value that is the database, or a namespace in it: 'bank', "bank.accounts".
    mention = re.compile(rf"""['"]{re.escape(named)}(['"]|\.)""")
    for step in scenario.steps:
        text = step.spec.texts.get("command", "") if step.spec is not None else ""
        if mention.search(text):
            raise ValueError(
                f"step {step.index}'s command names the database {named!r} itself, so it "
                f"cannot run in {database!r}, a database of its own; run it in place (you "
                "are asked before anything holding data is dropped)"
            )
    return replace(scenario, setup=replace(scenario.setup, database=database))


def protected(database: str, own: bool) -> bool:
    """Whether dropping a collection of `database` that holds data needs consent."""
    return not own and not database.startswith(PREFIX)

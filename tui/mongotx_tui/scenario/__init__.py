"""Scenarios: YAML files of interleaved session steps with expected outcomes.

`load_scenario(path_or_name)` reads and validates one; `run_scenario(scenario, uri)` runs it
headless; `export_script(scenario, ...)` writes the equivalent pymongo program. No textual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .definition import ErrorExpect, Expectation, Scenario, Step
    from .library import builtin_names, find_scenario
    from .loader import ScenarioError, load_scenario, parse_scenario

# Loaded on first use: `mongotx-tui` imports mongotx_tui.cli at every start to look for a
# subcommand, and the loader brings YAML with it.
_HOMES = {
    "builtin_names": "library",
    "find_scenario": "library",
    "ScenarioError": "loader",
    "load_scenario": "loader",
    "parse_scenario": "loader",
    "ErrorExpect": "definition",
    "Expectation": "definition",
    "Scenario": "definition",
    "Step": "definition",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)


__all__ = [
    "ErrorExpect",
    "Expectation",
    "Scenario",
    "ScenarioError",
    "Step",
    "builtin_names",
    "find_scenario",
    "load_scenario",
    "parse_scenario",
]

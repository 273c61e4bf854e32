"""Scenarios: YAML files of interleaved session steps with expected outcomes.

`load_scenario(path_or_name)` reads and validates one; `run_scenario(scenario, uri)` runs it
headless; `export_script(scenario, ...)` writes the equivalent pymongo program. No textual.
"""

from __future__ import annotations

from .library import builtin_names, find_scenario
from .loader import ScenarioError, load_scenario, parse_scenario
from .model import ErrorExpect, Expectation, Scenario, Step

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

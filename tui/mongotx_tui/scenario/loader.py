"""Read a scenario file and validate it; problems name the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .build import Problems, build_scenario
from .model import Scenario
from .yamlmarks import YamlProblem, load_yaml


class ScenarioError(ValueError):
    """A malformed scenario: `problems` holds (line, problem); str() gives file:line: problem."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = sorted(problems)
        super().__init__(
            "\n".join(f"{source}:{line}: {problem}" for line, problem in self.problems)
        )

    @property
    def line(self) -> int:
        return self.problems[0][0]


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse scenario YAML text; raise ScenarioError listing every problem found."""
    try:
        data: Any = load_yaml(text)
    except YamlProblem as exc:
        raise ScenarioError(source, [(exc.line, exc.problem)]) from None
    problems = Problems()
    scenario = build_scenario(data, problems)
    if problems or scenario is None:
        raise ScenarioError(source, problems.items or [(1, "not a scenario")])
    scenario.source = source
    return scenario


def load_scenario(target: str | Path) -> Scenario:
    """Load a built-in scenario by name, or a scenario file by path."""
    from .library import find_scenario

    path = find_scenario(str(target))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [(0, f"cannot read the file: {exc.strerror}")]) from None
    return parse_scenario(text, str(path))

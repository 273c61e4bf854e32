"""Read a scenario file and validate it; problems name the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .build import build_scenario
from .definition import Scenario
from .yamlmarks import Problems, YamlProblem, load_yaml

MAX_FILE_BYTES = 1024 * 1024  # the library's largest file is a few KB


class ScenarioError(ValueError):
    """A malformed scenario: `problems` holds (line, problem); str() gives file:line: problem."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = sorted(problems)
        super().__init__(
            "\n".join(
                f"{source}:{line}: {problem}" if line else f"{source}: {problem}"
                for line, problem in self.problems
            )
        )

    @property
    def line(self) -> int:
        return self.problems[0][0]


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse scenario YAML text; raise ScenarioError listing every problem found."""
    if len(text) > MAX_FILE_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ScenarioError(source, [(0, _too_big(len(text.encode("utf-8", "surrogatepass"))))])
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
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
            size = path.stat().st_size if len(data) > MAX_FILE_BYTES else len(data)
    except OSError as exc:
        raise ScenarioError(str(path), [(0, f"cannot read the file: {exc.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), [(0, _too_big(size))])
    return parse_scenario(decode(data, str(path)), str(path))


def _too_big(size: int) -> str:
    return f"the file is {size:,} bytes; scenario files are limited to {MAX_FILE_BYTES:,} bytes"


def decode(data: bytes, source: str) -> str:
    """The file's text as UTF-8 (a BOM is allowed); otherwise a ScenarioError naming where."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = (
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            "(save the file as UTF-8; Latin-1 and other encodings are not read)"
        )
        raise ScenarioError(source, [(line, problem)]) from None

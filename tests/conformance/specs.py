"""Find and load the spec test files; one `SpecCase` per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions

AREAS = ("transactions", "transactions-convenient-api", "sessions", "crud", "change-streams")
REPO_ROOT = Path(__file__).resolve().parents[2]
_JSON_OPTIONS = JSONOptions(json_mode=JSONMode.CANONICAL, tz_aware=False)


def spec_dir() -> Path:
    """`$MONGOTX_SPEC_TESTS`, else `../shared/spec-tests` next to the repository."""
    env = os.environ.get("MONGOTX_SPEC_TESTS")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "spec-tests"


@dataclass(frozen=True)
class SpecCase:
    """One test of one spec file, with the file's shared sections."""

    area: str
    path: Path
    file: dict[str, Any] = field(repr=False, hash=False, compare=False)
    test: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def case_id(self) -> str:
        return f"{self.area}/{self.path.stem}::{self.test['description']}"


def load_file(path: Path) -> dict[str, Any]:
    """Parse relaxed or canonical extended JSON, keeping int32/int64/double apart."""
    return json_util.loads(path.read_text(encoding="utf-8"), json_options=_JSON_OPTIONS)


def iter_cases(root: Path | None = None) -> Iterator[SpecCase]:
    """Every test of every JSON file under the known areas, in a stable order."""
    root = root or spec_dir()
    for area in AREAS:
        for path in sorted((root / area).glob("*.json")):
            data = load_file(path)
            for test in data.get("tests", []):
                yield SpecCase(area, path, data, test)

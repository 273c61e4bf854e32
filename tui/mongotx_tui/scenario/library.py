"""The built-in scenarios shipped as package data, and finding a scenario by name or path.

Library files are named `NN-name.yaml`: NN orders the list, `name` is what users type.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SUFFIXES = (".yaml", ".yml")


def library_dir() -> Path:
    return Path(str(resources.files(__package__) / "library"))


def builtin_files() -> list[Path]:
    return sorted(p for p in library_dir().iterdir() if p.suffix in SUFFIXES)


def sharded_dir() -> Path:
    """The sharded cluster's lessons (`sharded: true`): kept apart from the library, whose
    scenarios run on one replica set."""
    return Path(str(resources.files(__package__) / "sharded"))


def sharded_files() -> list[Path]:
    return sorted(p for p in sharded_dir().iterdir() if p.suffix in SUFFIXES)


def sharded_names() -> list[str]:
    return [builtin_name(p) for p in sharded_files()]


def builtin_name(path: Path) -> str:
    return path.stem.split("-", 1)[1] if path.stem[:2].isdigit() else path.stem


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, in library order."""
    return [builtin_name(p) for p in builtin_files()]


def find_scenario(target: str) -> Path:
    """The file of a built-in scenario name, or `target` itself when it is a path."""
    path = Path(target)
    if path.suffix in SUFFIXES or path.exists() or "/" in target:
        return path
    for file in builtin_files() + sharded_files():
        if target == builtin_name(file):
            return file
    raise FileNotFoundError(
        f"no built-in scenario or file named {target!r}; `mongotx-tui scenarios` lists them"
    )

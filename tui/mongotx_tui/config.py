"""Config file: TOML, found with platformdirs. One seam (`search_paths`) for tests.

# ~/.config/mongotx-tui/config.toml
[keymap]
step = "space"        # binding id = key(s), comma separated
commit = "C"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_CONFIG = "MONGOTX_TUI_CONFIG"
ENV_DATA = "MONGOTX_TUI_DATA_DIR"


def search_paths() -> list[Path]:
    env = os.environ.get(ENV_CONFIG)
    if env:
        return [Path(env)]
    from platformdirs import user_config_path

    return [Path.cwd() / "mongotx-tui.toml", user_config_path("mongotx-tui") / "config.toml"]


def data_dir() -> Path:
    """Saved scenarios, drafts and exports live here (MONGOTX_TUI_DATA_DIR overrides it)."""
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path("mongotx-tui")


def drafts_dir() -> Path:
    return data_dir() / "drafts"


@dataclass
class Config:
    """What the config file says: key remaps by binding id, the theme, and any problem reading it."""

    keymap: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    path: Path | None = None
    problem: str = ""


def load_config() -> Config:
    for path in search_paths():
        if not path.is_file():
            continue
        import tomllib  # only when there is a file to read: most starts have none

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            return Config(path=path, problem=f"{path}: {exc}")
        keymap = data.get("keymap", {})
        bad = [k for k, v in keymap.items() if not isinstance(v, str)]
        if bad:
            return Config(path=path, problem=f"{path}: [keymap] values must be strings: {bad}")
        theme = data.get("theme")
        return Config(
            keymap=dict(keymap), theme=theme if isinstance(theme, str) else None, path=path
        )
    return Config()

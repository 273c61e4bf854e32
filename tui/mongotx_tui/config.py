"""Config file: TOML, found with platformdirs. One seam (`search_paths`) for tests.

# ~/.config/mongotx-tui/config.toml
theme = "textual-light"
[keymap]
step = "space"        # binding id = key(s), comma separated
commit = "ctrl+k"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


SETTINGS = ("keymap", "theme")


@dataclass
class Config:
    """What the config file says: key remaps by binding id and the theme, with every problem
    found in it (the app shows them at start; what is wrong is left out, the rest applies)."""

    keymap: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    path: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str:
        """Every problem on its own line, each naming the file."""
        return "\n".join(f"{self.path}: {p}" for p in self.problems)


def load_config() -> Config:
    for path in search_paths():
        if not path.is_file():
            continue
        import tomllib  # only when there is a file to read: most starts have none

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            return Config(path=path, problems=[f"not UTF-8 text ({exc.reason})"])
        except OSError as exc:
            return Config(path=path, problems=[f"cannot read it: {exc.strerror}"])
        except tomllib.TOMLDecodeError as exc:
            return Config(path=path, problems=[f"not valid TOML: {exc}"])
        return check_config(data, path)
    return Config()


def check_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate parsed TOML: unknown settings, ill-typed values, unknown key ids and keys
    bound to two actions each become a problem, and are left out."""
    config = Config(path=path)
    problems = config.problems
    for key in data:
        if key not in SETTINGS:
            problems.append(f"unknown setting {key!r} (known: {', '.join(SETTINGS)})")
    theme = data.get("theme")
    if isinstance(theme, str) and theme.strip():
        config.theme = theme.strip()
    elif theme is not None:
        problems.append(f'theme = {_toml(theme)}: a theme is a name, e.g. theme = "textual-light"')
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        problems.append(f'keymap = {_toml(keymap)}: keymap is a table, e.g. [keymap] step = "j"')
        keymap = {}
    config.keymap = _check_keymap(keymap, problems)
    return config


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _check_keymap(keymap: dict[str, Any], problems: list[str]) -> dict[str, str]:
    from .keys import ALL_KEYS, display_key

    defaults = {d.id: d.key for d in ALL_KEYS}
    remaps: dict[str, str] = {}
    for key_id, value in keymap.items():
        if key_id not in defaults:
            problems.append(f"[keymap] {key_id}: no such key id (F1 lists every id)")
        elif not isinstance(value, str) or not value.strip(",").strip():
            problems.append(
                f'[keymap] {key_id} = {_toml(value)}: a key is text, e.g. {key_id} = "ctrl+k"'
            )
        else:
            remaps[key_id] = ",".join(k.strip() for k in value.split(",") if k.strip())
    # A key bound to two actions: the remaps involved are dropped (their actions keep their
    # default keys), repeatedly, since a dropped remap gives its default key back.
    while True:
        owners: dict[str, list[str]] = {}
        for key_id, keys in {**defaults, **remaps}.items():
            for key in dict.fromkeys(keys.split(",")):
                owners.setdefault(key, []).append(key_id)
        clashes = [(key, ids) for key, ids in owners.items() if len(ids) > 1]
        dropped = {i for _, ids in clashes for i in ids if i in remaps}
        if not dropped:
            return remaps
        for key, ids in clashes:
            for key_id in ids:
                if key_id in dropped:
                    others = " and ".join(i for i in ids if i != key_id)
                    problems.append(
                        f'[keymap] {key_id} = "{remaps[key_id]}": {display_key(key)} is '
                        f"already {others}'s key; {key_id} stays on "
                        f"{display_key(defaults[key_id])}"
                    )
        for key_id in dropped:
            del remaps[key_id]

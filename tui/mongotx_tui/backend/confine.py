"""A served tab's limits (`mongotx-tui serve`): whoever opens the page is not the person who
owns the machine, so the tab's file dialogs reach only its own folder (and, to load, the
built-in library), and F2 reaches only its own sandbox unless the operator started
`serve --allow-connect`. The terminal app has no `Served` and no limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..scenario.library import library_dir


class Refused(Exception):
    """A path outside the tab's folder: the message is the one sentence the dialog shows."""


@dataclass(frozen=True)
class Served:
    folder: Path  # the tab's own temporary folder, deleted when the tab closes
    allow_connect: bool = False  # serve --allow-connect: F2 may name any server

    def place(self, typed: str, *, loading: bool = False) -> Path:
        """The file `typed` names, symlinks and `..` resolved; a relative name is taken in
        the tab's folder. Raises Refused when it lies outside the folder (and, when
        `loading`, outside the built-in library)."""
        path = Path(typed).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        real = path.resolve()  # follows every symlink that exists, then drops `..`
        roots = [self.folder.resolve()]
        if loading:
            roots.append(library_dir().resolve())
        if any(real.is_relative_to(root) for root in roots):
            return real
        where = "its own folder or the built-in library" if loading else "its own folder"
        verb = "read" if loading else "write"
        raise Refused(
            f"✗ Refused: this browser tab can {verb} files only in {where} "
            f"({self.folder}), and {typed} is outside it."
        )

    @property
    def connect_refusal(self) -> str:
        return (
            "✗ This browser tab may use only its own sandbox: the person running "
            "`mongotx-tui serve` can allow other servers with --allow-connect."
        )

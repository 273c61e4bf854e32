"""The hooks a served tab's dialogs share (limits in backend/confine.py): where a typed path
may go, and what becomes of a file once it is written there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backend.confine import Served


def place(served: Served | None, typed: str, *, loading: bool = False) -> tuple[str, str]:
    """(the path to use, "") or ("", the refusal to show). In the terminal (`served` None)
    the typed path is used as it always was."""
    if served is None:
        return str(Path(typed).expanduser()), ""
    from ..backend.confine import Refused

    try:
        return str(served.place(typed, loading=loading)), ""
    except Refused as exc:
        return "", str(exc)


def hand_over(app: Any, path: Path) -> str:
    """In a served tab, send the written file to the browser as a download (Textual's public
    `App.deliver_text`, which textual-serve turns into a one-use URL) so that a student can
    take it home; returns what to add to the "saved" message ("" in the terminal)."""
    if getattr(app, "served", None) is None:
        return ""
    if app.is_web:
        app.deliver_text(path, save_filename=path.name)
        return " (this tab's folder); your browser downloads it"
    return " (this tab's folder, deleted when the tab closes)"

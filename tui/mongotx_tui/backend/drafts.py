"""Autosaved drafts: one file per workbench (a run, or a scenario loaded over it), the
newest KEEP kept. Loading a scenario or switching starts a new file, so what was built
before is still there to load back (the Load dialog lists them)."""

from __future__ import annotations

from pathlib import Path

KEEP = 20  # drafts kept on disk, newest first; the Load dialog lists them all


def new_draft_path(folder: Path, stamp: str) -> Path:
    """A name no earlier draft has: draft-<stamp>.yaml, or -2, -3… within one second."""
    path, n = folder / f"draft-{stamp}.yaml", 1
    while path.exists():
        n += 1
        path = folder / f"draft-{stamp}-{n}.yaml"
    return path


def drafts(folder: Path) -> list[Path]:
    """The drafts in `folder`, newest first (by the time they were last written)."""
    if not folder.is_dir():
        return []
    found = [(p.stat().st_mtime, p) for p in folder.glob("draft-*.yaml")]
    return [p for _, p in sorted(found, reverse=True)]


def prune(folder: Path, keep: int = KEEP) -> list[Path]:
    """Delete all but the newest `keep` drafts; returns what was deleted."""
    old = drafts(folder)[keep:]
    for path in old:
        path.unlink(missing_ok=True)
    return old

"""Names the user types: lane names and the watched namespace. Each check returns what is
wrong in words (shown in place), or None. No textual."""

from __future__ import annotations

from collections.abc import Iterable

MAX_LANE_NAME = 12  # the timeline's lane column and the lane titles stay readable
OUTSIDE_SUFFIX = "-out"  # saved scenarios name a lane's no-session operations "<lane>-out"
RESERVED_LANE_NAMES = {"server", "db"}  # the timeline's change events
MAX_DB_BYTES = 63  # MongoDB: database names are shorter than 64 bytes
MAX_NAMESPACE_BYTES = 255  # MongoDB: "<db>.<collection>" at most 255 bytes
DB_FORBIDDEN = '/\\. "$'


def lane_name_problem(name: str, others: Iterable[str]) -> str | None:
    """Non-empty, short, printable, and unique among the other lanes (ignoring case)."""
    name = name.strip()
    if not name:
        return "a lane needs a name"
    if len(name) > MAX_LANE_NAME:
        return f"at most {MAX_LANE_NAME} characters ({len(name)} now)"
    if not name.isprintable():
        return "control characters can't be shown in a lane title"
    if "[" in name or "]" in name:
        return "square brackets mark up styles in titles; use other characters"
    if name.lower() in RESERVED_LANE_NAMES:
        return f"{name} names the server's change events in the timeline"
    if name.lower().endswith(OUTSIDE_SUFFIX):
        return f"names ending in {OUTSIDE_SUFFIX} are kept for operations run outside a session"
    taken = {other.lower(): other for other in others}
    if name.lower() in taken:
        return f"another lane is called {taken[name.lower()]}"
    return None


def database_problem(db: str) -> str | None:
    """MongoDB's rules for database names (the stricter Windows set is not enforced)."""
    if not db:
        return "type a database name"
    bad = sorted({c for c in db if c in DB_FORBIDDEN or c == "\0"})
    if bad:
        shown = " ".join("space" if c == " " else "NUL" if c == "\0" else c for c in bad)
        return f"a database name can't contain {shown}"
    if len(db.encode()) > MAX_DB_BYTES:
        return f"a database name has at most {MAX_DB_BYTES} bytes"
    return None


def collection_problem(collection: str, db: str = "") -> str | None:
    """MongoDB's rules for collection names; `db` checks the namespace length too."""
    if not collection:
        return "type a collection name"
    if "$" in collection:
        return "a collection name can't contain $"
    if "\0" in collection:
        return "a collection name can't contain NUL"
    if collection.startswith("."):
        return "a collection name can't start with a dot"
    if len(f"{db}.{collection}".encode()) > MAX_NAMESPACE_BYTES:
        return f"database.collection has at most {MAX_NAMESPACE_BYTES} bytes"
    return None

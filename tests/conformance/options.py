"""Turn the test format's option documents into pymongo objects and keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReadPreference
from pymongo.client_session import TransactionOptions
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import make_read_preference, read_pref_mode_from_name
from pymongo.write_concern import WriteConcern

from .requirements import Unsupported


def read_concern(doc: Mapping[str, Any]) -> ReadConcern:
    return ReadConcern(**({"level": doc["level"]} if "level" in doc else {}))


def write_concern(doc: Mapping[str, Any]) -> WriteConcern:
    names = {"w": "w", "journal": "j", "wtimeoutMS": "wtimeout"}
    unknown = set(doc) - set(names)
    if unknown:
        raise Unsupported(f"runner lacks writeConcern option(s) {sorted(unknown)}")
    return WriteConcern(**{names[k]: v for k, v in doc.items()})


def read_preference(doc: Mapping[str, Any]) -> Any:
    mode = read_pref_mode_from_name(doc["mode"][0].lower() + doc["mode"][1:])
    if mode == ReadPreference.PRIMARY.mode:
        return ReadPreference.PRIMARY
    if "hedge" in doc:
        raise Unsupported("runner lacks readPreference.hedge (pymongo 4.20 dropped it)")
    return make_read_preference(
        mode, tag_sets=doc.get("tagSets"), max_staleness=doc.get("maxStalenessSeconds", -1)
    )


def concerns(doc: Mapping[str, Any], *, allowed: tuple[str, ...]) -> dict[str, Any]:
    """readConcern/writeConcern/readPreference (+ maxCommitTimeMS) as pymongo kwargs."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in allowed:
            raise Unsupported(f"runner lacks option {key!r} here")
        if key == "readConcern":
            out["read_concern"] = read_concern(value)
        elif key == "writeConcern":
            out["write_concern"] = write_concern(value)
        elif key == "readPreference":
            out["read_preference"] = read_preference(value)
        elif key == "maxCommitTimeMS":
            out["max_commit_time_ms"] = value
    return out


TXN_OPTIONS = ("readConcern", "writeConcern", "readPreference", "maxCommitTimeMS")


def transaction_options(doc: Mapping[str, Any]) -> TransactionOptions:
    return TransactionOptions(**concerns(doc, allowed=TXN_OPTIONS))

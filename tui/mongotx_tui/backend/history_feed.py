"""Feed model.history from a finished step: what its reply read and wrote, and what it did
to its lane's transaction. Shared by the workbench (Workbench.run_step) and headless runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.history import Access, Step, access_of

if TYPE_CHECKING:
    from ..model.ops import OpSpec
    from .steps import Outcome


def access(spec: OpSpec | None, result: Any) -> Access:
    """The statement's reads and writes, from its parsed fields and the server's reply."""
    if spec is None:
        return Access()
    try:
        values = spec.values()
    except Exception:  # an op that could not be parsed never reached the server
        return Access()
    return access_of(spec.kind.value, spec.collection.strip(), values, result)


def step_of(
    lane: str,
    action: str,
    spec: OpSpec | None,
    out: Outcome,
    *,
    what: str,
    in_txn: bool,
    number: int | None,
    waited: bool = False,
    waited_for: str = "",
) -> Step:
    """One finished step as the history records it."""
    error = out.error
    return Step(
        lane=lane,
        action=action,
        what=what,
        outcome=out.summary,
        ok=error is None,
        in_txn=in_txn,
        number=number,
        access=access(spec, out.result) if error is None else _refused(spec),
        code=error.code if error is not None else None,
        aborted=error.txn_aborted if error is not None else None,
        conflict_with=_lane_of(error.conflict_lane) if error is not None else "",
        waited=waited,
        waited_for=waited_for,
    )


def _refused(spec: OpSpec | None) -> Access:
    """A refused write: its filter and the documents it meant to insert (no reply names any)."""
    if spec is None:
        return Access()
    try:
        values = spec.values()
    except Exception:
        return Access()
    inserted = access_of(spec.kind.value, spec.collection.strip(), values, _as_inserted(values))
    return Access(
        filter=values.get("filter"), collection=spec.collection.strip(), inserted=inserted.inserted
    )


def _as_inserted(values: dict[str, Any]) -> Any:
    """An insert's request as if acknowledged: the `_id`s it meant (none given: none)."""
    doc = values.get("document")
    if isinstance(doc, dict) and "_id" in doc:
        return {"insertedId": doc["_id"]}
    docs = values.get("documents")
    if isinstance(docs, list) and all(isinstance(d, dict) and "_id" in d for d in docs):
        return {"insertedIds": [d["_id"] for d in docs]}
    return None


def _lane_of(conflict_lane: str) -> str:
    """`lane A (txn 2)` → `A`."""
    if not conflict_lane.startswith("lane "):
        return ""
    return conflict_lane[5:].rsplit(" (txn", 1)[0]

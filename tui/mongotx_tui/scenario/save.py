"""The workbench as a scenario file: lanes become sessions, the steps that ran (in the
order they started) become steps, and what happened becomes each step's expectation.

`workbench_yaml(wb)` gives the text (it loads back with `loader.parse_scenario`);
`write_atomic` writes it so that a crash never leaves half a file. No textual.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..model.journal import Journal
from ..model.lanes import Lane, LaneOptions, OpStatus, TxnOptions
from ..model.ops import SWITCHES, StepAction
from ..model.page import PAGE_SIZE, Page

if TYPE_CHECKING:
    from ..model.journal import Played
    from .definition import Scenario, Setup


class Bench(Protocol):
    """What saving reads of a workbench (backend.workbench.Workbench is one): saving is
    pure, so it names what it needs instead of importing the backend."""

    play: Any  # the loaded scenario's play (its .scenario), or None
    initial: tuple[str, str, list[dict[str, Any]], bool] | None
    db: str
    collection: str
    page: Page
    lanes: list[Lane]
    journal: Journal
    clock: Callable[[], float]


MAX_RESULT_ITEMS = 50  # longer results are not written as expectations
NO_BLOCK = (StepAction.START_TRANSACTION, StepAction.SLEEP, StepAction.FAIL_POINT)


def _yamlable(value: Any) -> bool:
    """Plain YAML round-trips it exactly (no ObjectId, dates, Decimal128, bytes...)."""
    if value is None or isinstance(value, bool | str | float):
        return True
    if isinstance(value, int):
        return abs(value) < 2**63
    if isinstance(value, dict):
        return all(isinstance(k, str) and _yamlable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return len(value) <= MAX_RESULT_ITEMS and all(_yamlable(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _txn(opts: TxnOptions, base: TxnOptions | None = None) -> dict[str, Any]:
    """Transaction options as scenario keys, only those that differ from `base`."""
    base = base or TxnOptions()
    out: dict[str, Any] = {}
    if opts.read_concern != base.read_concern:
        out["readConcern"] = opts.read_concern or None
    if opts.write_concern != base.write_concern:
        wc = opts.write_concern
        out["writeConcern"] = int(wc) if wc.isdigit() else (wc or None)
    if opts.read_preference != base.read_preference:
        out["readPreference"] = opts.read_preference
    if opts.max_commit_time_ms != base.max_commit_time_ms and opts.max_commit_time_ms:
        out["maxCommitTimeMS"] = opts.max_commit_time_ms
    return out


def _session_options(options: LaneOptions) -> dict[str, Any]:
    """A session's own options as scenario keys, those that differ from the default."""
    out: dict[str, Any] = {}
    if options.snapshot:
        out["snapshot"] = True
    elif not options.causal_consistency:
        out["causalConsistency"] = False
    if not options.retry_writes:
        out["retryWrites"] = False
    return out


def _op_fields(spec: Any, default_collection: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.kind.value != "command" and spec.collection != default_collection:
        out["collection"] = spec.collection
    for name, text in spec.texts.items():
        if name in SWITCHES:
            if text == "true":
                out[name] = True
        elif text.strip():
            out[name] = text  # mongosh literal text: the loader parses it like the editor
    return out


def _expectation(entry: Played) -> dict[str, Any]:
    from .matching import normalize

    if not entry.done:
        return {}
    if entry.error is not None:
        e = entry.error
        error: dict[str, Any] = {}
        if e.code is not None:
            error["code"] = e.code
        if e.code_name:
            error["codeName"] = e.code_name
        if e.labels:
            error["labels"] = list(e.labels)
        return {"error": error}
    if entry.spec is None and entry.action != StepAction.WITH_TRANSACTION:
        return {}
    result = normalize(entry.result)
    if entry.action == StepAction.WITH_TRANSACTION and isinstance(result, dict):
        result = {"results": result.get("results")}
    if _yamlable(result):
        return {"result": _plain(result)}
    return {}


def _step(entry: Played, default_collection: str, session_txn: TxnOptions | None) -> dict:
    out: dict[str, Any] = {}
    if entry.session:
        out["session"] = entry.session
    out["action"] = str(entry.action)  # a StepAction or an OpKind value: YAML writes str
    if entry.spec is not None:
        out.update(_op_fields(entry.spec, default_collection))
    elif entry.action == StepAction.WITH_TRANSACTION:
        out["ops"] = [
            {"action": op.kind.value, **_op_fields(op, default_collection)} for op in entry.ops
        ]
    elif entry.action == StepAction.SLEEP:
        out["seconds"] = entry.seconds
    elif entry.action == StepAction.FAIL_POINT:
        if entry.failpoint.get("name"):
            out["name"] = entry.failpoint["name"]
        out["mode"] = entry.failpoint.get("mode", {"times": 1})
        out["data"] = entry.failpoint.get("data", {})
    if entry.txn is not None and entry.action in (
        StepAction.START_TRANSACTION,
        StepAction.WITH_TRANSACTION,
    ):
        out.update(_txn(entry.txn, session_txn))
    note = entry.note
    if not entry.done:
        note = (note + " " if note else "") + "(still running when saved)"
    if entry.outside:
        note = (note + " " if note else "") + "(ran outside any session in the workbench)"
    if note:
        out["note"] = note
    out.update(_expectation(entry))
    return out


def _setup(setup: Setup) -> dict[str, Any]:
    out: dict[str, Any] = {"database": setup.database}
    colls = setup.collections
    if colls:
        first = colls[0]
        out["collection"] = first.name
        out["documents"] = [_plain(d) for d in first.documents]
        if first.indexes:
            out["indexes"] = [_index(i) for i in first.indexes]
        if len(colls) > 1:
            out["collections"] = {
                c.name: {
                    "documents": [_plain(d) for d in c.documents],
                    **({"indexes": [_index(i) for i in c.indexes]} if c.indexes else {}),
                }
                for c in colls[1:]
            }
    if setup.parameters:
        out["parameters"] = dict(setup.parameters)
    return out


def _index(index: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"keys": dict(index.keys)}
    if index.unique:
        out["unique"] = True
    if index.name:
        out["name"] = index.name
    return out


def _blocks(entries: list[Played], steps: list[dict[str, Any]]) -> None:
    """A step that was still running when later steps started waited for the last of them."""
    for i, (entry, step) in enumerate(zip(entries, steps, strict=True)):
        until = entry.overlapped_by
        if not entry.done or until <= entry.seq or entry.action in NO_BLOCK:
            continue
        between = steps[i + 1 : until]
        if any(s.get("session") == step.get("session") for s in between):
            continue
        if until > len(steps):
            continue
        step["blocks_until"] = until


def workbench_data(
    wb: Bench, *, name: str = "", title: str = "", pending: bool = False
) -> dict[str, Any]:
    """The workbench as scenario data (a dict for YAML). `pending` adds the operations still
    queued in the lanes, after the steps that ran (drafts keep them)."""
    play = wb.play
    scenario: Scenario | None = play.scenario if play is not None else None
    now = dt.datetime.fromtimestamp(wb.clock()).strftime("%Y-%m-%d %H:%M")
    if scenario is not None:
        setup = _setup(scenario.setup)
        description = scenario.description
        teaches: list[str] = list(scenario.teaches)
        default_name = scenario.name
        default_title = scenario.title
    else:
        db, coll, docs, complete = wb.initial or (
            wb.db,
            wb.collection,
            [dict(d) for d in wb.page.docs],
            wb.page.number == 0 and len(wb.page.docs) < PAGE_SIZE,
        )
        kept = [d for d in docs if _yamlable(d)]
        setup = {"database": db, "collection": coll, "documents": [_plain(d) for d in kept]}
        description = f"Recorded in the mongotx-tui workbench on {now}."
        if len(kept) < len(docs):
            description += (
                f" {len(docs) - len(kept)} of the documents had values plain YAML cannot"
                " hold (ObjectId, dates...) and are left out of the setup."
            )
        if not complete:
            description += " The setup holds only the first page of the collection."
        teaches = []
        default_name = "workbench"
        default_title = f"Workbench session of {now}"
    default_coll = setup.get("collection", "test")
    lanes = {lane.name: lane for lane in wb.lanes}
    names: list[str] = []
    for n in [*lanes, *(e.session for e in wb.journal.entries)]:
        if n and n not in names:
            names.append(n)
    sessions: dict[str, dict[str, Any]] = {}
    session_txn: dict[str, TxnOptions] = {}
    for n in names:
        opts = TxnOptions()
        if scenario is not None and any(s.name == n for s in scenario.sessions):
            opts = scenario.session(n).txn
        elif n in lanes:
            first = next(
                (
                    e.txn
                    for e in wb.journal.entries
                    if e.session == n and e.action == StepAction.START_TRANSACTION and e.txn
                ),
                None,
            )
            opts = first or lanes[n].txn_options
        session_txn[n] = opts
        own = lanes[n].options if n in lanes else LaneOptions()
        if n not in lanes and scenario is not None and any(s.name == n for s in scenario.sessions):
            own = scenario.session(n).options
        sessions[n] = {**_txn(opts), **_session_options(own)}
    entries = list(wb.journal.entries)
    steps = [_step(e, default_coll, session_txn.get(e.session)) for e in entries]
    _blocks(entries, steps)
    if pending:
        for lane in wb.lanes:
            for item in lane.queue:
                if item.status is not OpStatus.PENDING or item.spec is None or item.step:
                    continue  # a loaded scenario's own steps are in its file
                step = {"session": lane.name, "action": item.spec.kind.value}
                step.update(_op_fields(item.spec, default_coll))
                step["note"] = "queued in the workbench, not run yet"
                steps.append(step)
    ran = len(entries)
    return {
        "name": name or default_name,
        "title": title or default_title,
        "description": description,
        **({"teaches": teaches} if teaches else {}),
        "setup": setup,
        "sessions": sessions,
        "steps": steps,
        "verdict": f"Recorded in the workbench on {now}: {ran} step{'s' if ran != 1 else ''}"
        " and what each did.",
    }


def dump(data: dict[str, Any]) -> str:
    """Scenario YAML: keys in the format's order, steps one mapping each."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def flow_small(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.Node:
        return dumper.represent_mapping("tag:yaml.org,2002:map", value.items())

    Dumper.add_representer(dict, flow_small)
    return yaml.dump(
        data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def workbench_yaml(wb: Bench, **kwargs: Any) -> str:
    return dump(workbench_data(wb, **kwargs))


def write_atomic(path: Path, text: str) -> Path:
    """Write to a temporary file in the same folder, then rename it over `path`."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path

"""Turn parsed YAML (with line marks) into a Scenario, collecting every problem found."""

from __future__ import annotations

from typing import Any

from ..model.lanes import READ_PREFERENCES, LaneOptions, TxnOptions
from ..model.ops import FIELDS, OpKind, OpSpec, StepAction
from .definition import (
    OTHER_ACTIONS,
    TXN_ACTIONS,
    CollectionSetup,
    ErrorExpect,
    Expectation,
    Index,
    Scenario,
    SessionDef,
    Setup,
    Step,
)
from .fields import bson_value, field_texts
from .yamlmarks import Located, Problems, plain

TOP_KEYS = {
    "name",
    "title",
    "description",
    "teaches",
    "members",
    "setup",
    "sessions",
    "steps",
    "verdict",
    "sharded",
}
MAX_MEMBERS = 7  # a replica set has at most 7 voting members (manual: replica-set-members)
REQUIRED = ("name", "description", "sessions", "steps", "verdict")
ALIASES = {
    "insertOne": "insert",
    "updateOne": "update",
    "replaceOne": "replace",
    "deleteOne": "delete",
    "commitTransaction": "commit",
    "abortTransaction": "abort",
}
TXN_KEYS = {"readConcern", "writeConcern", "maxCommitTimeMS", "readPreference"}
# A session's own options (model.lanes.LaneOptions), as the workbench's lane options dialog.
SESSION_OPTIONS = {
    "causalConsistency": "causal_consistency",
    "snapshot": "snapshot",
    "retryWrites": "retry_writes",
}
STEP_KEYS = {"session", "action", "collection", "note", "result", "error", "blocks_until"}
ACTIONS = [k.value for k in OpKind] + list(TXN_ACTIONS) + list(OTHER_ACTIONS)
MAX_SESSIONS = 16  # the workbench's 8 lanes, each with its "<lane>-out" for no-session ops
MAX_SESSION_NAME = 64


def _line(data: Any, key: str | None = None, default: int = 1) -> int:
    if isinstance(data, Located):
        return data.line_of(key) if key else data.line
    return getattr(data, "line", default)


def _mapping(value: Any, what: str, line: int, p: Problems) -> Located | None:
    if value is None:
        empty = Located()
        empty.line, empty.key_lines = line, {}
        return empty
    if not isinstance(value, Located):
        p.add(line, f"{what} must be a mapping (key: value)")
        return None
    return value


def _unknown(data: Located, allowed: set[str], what: str, p: Problems) -> None:
    for key in data:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            p.add(data.line_of(key), f"unknown key {key!r} in {what} (known: {known})")


def _text(data: Located, key: str, p: Problems, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            p.add(data.line, f"missing {key!r}")
        return ""
    if not isinstance(value, str):
        p.add(data.line_of(key), f"{key!r} must be text")
        return ""
    return value.strip()


def build_scenario(data: Any, p: Problems) -> Scenario | None:
    if not isinstance(data, Located):
        p.add(1, "a scenario file is a YAML mapping with name, description, sessions, steps, ...")
        return None
    _unknown(data, TOP_KEYS, "the scenario", p)
    for key in REQUIRED:
        if key not in data:
            p.add(1, f"missing {key!r}")
    teaches = data.get("teaches") or []
    if isinstance(teaches, str):
        teaches = [teaches]
    if not isinstance(teaches, list) or not all(isinstance(t, str) for t in teaches):
        p.add(data.line_of("teaches"), "'teaches' must be text or a list of texts")
        teaches = []
    setup = _setup(data.get("setup"), data.line_of("setup"), p)
    sessions = _sessions(data.get("sessions"), data.line_of("sessions"), p)
    names = {s.name for s in sessions}
    default_coll = setup.collections[0].name if setup.collections else "test"
    steps = _steps(data.get("steps"), data.line_of("steps"), names, default_coll, p)
    _check_blocks(steps, p)
    return Scenario(
        name=_text(data, "name", p),
        title=_text(data, "title", p) or _text(data, "name", p),
        description=_text(data, "description", p),
        teaches=[t.strip() for t in teaches],
        setup=setup,
        sessions=sessions,
        steps=steps,
        verdict=_text(data, "verdict", p),
        sharded=_sharded(data, p),
        members=_members(data, p),
    )


def _sharded(data: Located, p: Problems) -> bool:
    value = data.get("sharded", False)
    if not isinstance(value, bool):
        p.add(data.line_of("sharded"), "'sharded' is true or false")
        return False
    return value


def _members(data: Located, p: Problems) -> int:
    """How many replica set members the scenario needs (1 unless it says more)."""
    value = data.get("members", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MEMBERS:
        p.add(data.line_of("members"), f"members must be a number from 1 to {MAX_MEMBERS}")
        return 1
    return value


def _setup(value: Any, line: int, p: Problems) -> Setup:
    data = _mapping(value, "'setup'", line, p)
    setup = Setup()
    if data is None:
        return setup
    keys = {"database", "collection", "documents", "indexes", "collections", "parameters"}
    _unknown(data, keys, "setup", p)
    setup.database = _text(data, "database", p) or setup.database
    if "collection" in data or "documents" in data or "indexes" in data:
        name = _text(data, "collection", p) or "test"
        setup.collections.append(_collection(name, data, p))
    extra = _mapping(data.get("collections"), "'collections'", data.line_of("collections"), p)
    for name, spec in (extra or {}).items():
        sub = _mapping(spec, f"collection {name!r}", extra.line_of(name), p)  # type: ignore[union-attr]
        if sub is not None:
            _unknown(sub, {"documents", "indexes"}, f"collection {name!r}", p)
            setup.collections.append(_collection(name, sub, p))
    params = _mapping(data.get("parameters"), "'parameters'", data.line_of("parameters"), p)
    setup.parameters = dict(plain(params or {}))
    return setup


def _collection(name: str, data: Located, p: Problems) -> CollectionSetup:
    out = CollectionSetup(name)
    docs = data.get("documents") or []
    if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
        p.add(data.line_of("documents"), "'documents' must be a list of mappings")
    else:
        out.documents = [bson_value(d) for d in docs]
    for item in data.get("indexes") or []:
        if not isinstance(item, Located) or not isinstance(item.get("keys"), dict):
            p.add(data.line_of("indexes"), "each index is a mapping with 'keys' (and 'unique')")
            continue
        _unknown(item, {"keys", "unique", "name"}, "an index", p)
        if item.get("name") is not None and not isinstance(item["name"], str):
            p.add(item.line_of("name"), "an index name must be text")
            continue
        out.indexes.append(Index(plain(item["keys"]), bool(item.get("unique")), item.get("name")))
    return out


def _txn_options(data: Located, p: Problems) -> TxnOptions:
    opts = TxnOptions()
    if "readConcern" in data:
        opts.read_concern = str(data["readConcern"] or "")
        if opts.read_concern not in ("", "local", "majority", "snapshot"):
            p.add(data.line_of("readConcern"), "readConcern must be local, majority or snapshot")
    if "writeConcern" in data:
        wc = data["writeConcern"]
        if isinstance(wc, int) and not isinstance(wc, bool) and wc >= 0:
            opts.write_concern = str(wc)
        elif isinstance(wc, str) and wc.strip() and not wc.strip().isdigit():
            opts.write_concern = wc.strip()
        elif wc is not None:
            p.add(
                data.line_of("writeConcern"),
                "writeConcern is a number of members (w: 1) or a name such as majority",
            )
    if "readPreference" in data:
        mode = data["readPreference"]
        if mode not in READ_PREFERENCES:
            p.add(
                data.line_of("readPreference"),
                "readPreference is one of " + ", ".join(READ_PREFERENCES),
            )
        else:
            opts.read_preference = mode
    if "maxCommitTimeMS" in data:
        value = data["maxCommitTimeMS"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            p.add(data.line_of("maxCommitTimeMS"), "maxCommitTimeMS must be a positive integer")
        else:
            opts.max_commit_time_ms = value
    return opts


def _sessions(value: Any, line: int, p: Problems) -> list[SessionDef]:
    out: list[SessionDef] = []
    if isinstance(value, list):
        for i, name in enumerate(value):
            item_line = value.item_lines[i]  # type: ignore[attr-defined]
            if _session_name(name, item_line, p):
                out.append(SessionDef(name.strip()))
    elif isinstance(value, Located):
        for name, opts in value.items():
            data = _mapping(opts, f"session {name!r}", value.line_of(name), p)
            if data is not None and _session_name(name, value.line_of(name), p):
                _unknown(data, TXN_KEYS | set(SESSION_OPTIONS), f"session {name!r}", p)
                out.append(SessionDef(name, _txn_options(data, p), _session_options(data, p)))
    elif value is not None:
        p.add(line, "'sessions' must be a list of names or a mapping name: options")
    if value is not None and not out:
        p.add(line, "declare at least one session")
    if len(out) > MAX_SESSIONS:
        p.add(line, f"{len(out)} sessions; a scenario has at most {MAX_SESSIONS}")
    return out


def _session_options(data: Located, p: Problems) -> LaneOptions:
    options = LaneOptions()
    for key, attr in SESSION_OPTIONS.items():
        if key not in data:
            continue
        if not isinstance(data[key], bool):
            p.add(data.line_of(key), f"{key} must be true or false")
            continue
        setattr(options, attr, data[key])
    if options.snapshot and "causalConsistency" in data and options.causal_consistency:
        p.add(
            data.line_of("causalConsistency"),
            "a snapshot session cannot be causally consistent (causalConsistency: false)",
        )
    if options.snapshot:
        options.causal_consistency = False  # what a snapshot session is
    return options


def _session_name(name: Any, line: int, p: Problems) -> bool:
    if not isinstance(name, str) or not name.strip():
        p.add(line, "a session name must be text")
        return False
    if not name.isprintable() or len(name) > MAX_SESSION_NAME:
        p.add(
            line,
            f"session name {name!r}: at most {MAX_SESSION_NAME} printable characters "
            "(no line breaks or control characters)",
        )
        return False
    return True


def _steps(value: Any, line: int, sessions: set[str], coll: str, p: Problems) -> list[Step]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        p.add(line, "'steps' must be a non-empty list")
        return []
    steps = []
    for i, item in enumerate(value):
        item_line = value.item_lines[i]  # type: ignore[attr-defined]
        if not isinstance(item, Located):
            p.add(item_line, f"step {i + 1} must be a mapping with 'action'")
            continue
        step = _step(i + 1, item, sessions, coll, p)
        if step is not None:
            steps.append(step)
    return steps


def _action(data: Located, p: Problems) -> str | None:
    action = data.get("action")
    if not isinstance(action, str):
        p.add(data.line, "a step needs 'action' (" + ", ".join(ACTIONS) + ")")
        return None
    action = ALIASES.get(action, action)
    if action not in ACTIONS:
        p.add(data.line_of("action"), f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
        return None
    return action


def _op(action: str, data: Located, coll: str, p: Problems) -> OpSpec | None:
    kind = OpKind(action)
    collection = _text(data, "collection", p) or coll
    texts = field_texts(kind, data, p)
    if texts is None:
        return None
    return OpSpec.new(kind, collection, **texts)


def _step(index: int, data: Located, sessions: set[str], coll: str, p: Problems) -> Step | None:
    action = _action(data, p)
    if action is None:
        return None
    step = Step(index=index, line=data.line, action=action, note=_text(data, "note", p))
    allowed = set(STEP_KEYS)
    session = data.get("session")
    if session is not None:
        if session not in sessions:
            p.add(data.line_of("session"), f"step {index}: no session named {session!r}")
        step.session = str(session)
    if action in OTHER_ACTIONS[:2]:
        allowed |= {"seconds"} if action == StepAction.SLEEP else {"mode", "data", "name"}
        _other(step, data, p)
    else:
        if session is None:
            p.add(data.line, f"step {index}: {action} needs 'session'")
        if action in (StepAction.START_TRANSACTION, StepAction.WITH_TRANSACTION):
            allowed |= TXN_KEYS
            if TXN_KEYS & set(data):
                step.txn = _txn_options(data, p)
        if action == StepAction.WITH_TRANSACTION:
            allowed.add("ops")
            step.ops = _callback_ops(data, coll, p)
        elif action not in TXN_ACTIONS:
            allowed |= set(FIELDS[OpKind(action)]) | {"collection"}
            step.spec = _op(action, data, coll, p)
    _unknown(data, allowed, f"step {index} ({action})", p)
    step.expect = _expectation(index, data, p)
    return step


def _other(step: Step, data: Located, p: Problems) -> None:
    if step.action == StepAction.SLEEP:
        seconds = data.get("seconds")
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not 0 < seconds <= 600
        ):
            p.add(data.line_of("seconds"), "sleep needs 'seconds' between 0 and 600")
        else:
            step.seconds = float(seconds)
        return
    mode = data.get("mode", {"times": 1})
    fp = data.get("data")
    name = data.get("name", "failCommand")
    if name != "failCommand":
        # Another fail point (hangBeforeWritingDecision): its data, if any, as given.
        if not isinstance(name, str) or not name.strip():
            p.add(data.line_of("name"), "failPoint 'name' is a fail point's name")
            return
        step.failpoint = {"name": name, "mode": plain(mode)}
        if isinstance(fp, dict):
            step.failpoint["data"] = plain(fp)
        return
    if not isinstance(fp, dict) or not isinstance(fp.get("failCommands"), list):
        p.add(data.line_of("data"), "failPoint needs 'data' with a 'failCommands' list")
        return
    names = fp["failCommands"]
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        p.add(
            _line(names, default=data.line_of("data")),
            "failPoint 'failCommands' must be a list of command names, e.g. [update, commitTransaction]",
        )
        return
    if not (mode in ("alwaysOn", "off") or (isinstance(mode, dict) and len(mode) == 1)):
        p.add(data.line_of("mode"), "failPoint 'mode' is alwaysOn, off, {times: n} or {skip: n}")
    step.failpoint = {"mode": plain(mode), "data": plain(fp)}


def _callback_ops(data: Located, coll: str, p: Problems) -> list[OpSpec]:
    ops = data.get("ops")
    if not isinstance(ops, list) or not ops:
        p.add(data.line_of("ops"), "withTransaction needs 'ops': a list of operations")
        return []
    out = []
    for i, item in enumerate(ops):
        line = ops.item_lines[i]  # type: ignore[attr-defined]
        if not isinstance(item, Located):
            p.add(line, "each of 'ops' is a mapping with 'action'")
            continue
        action = _action(item, p)
        if action is None:
            continue
        if action in TXN_ACTIONS or action in OTHER_ACTIONS:
            p.add(item.line_of("action"), f"{action} cannot run inside withTransaction's ops")
            continue
        _unknown(item, set(FIELDS[OpKind(action)]) | {"action", "collection"}, "an op", p)
        spec = _op(action, item, coll, p)
        if spec is not None:
            out.append(spec)
    return out


def _expectation(index: int, data: Located, p: Problems) -> Expectation:
    exp = Expectation()
    if "result" in data and "error" in data:
        p.add(data.line_of("error"), f"step {index}: expect either 'result' or 'error', not both")
    if "result" in data:
        exp.result = bson_value(data["result"])
    if "error" in data:
        exp.error = _error(data["error"], data.line_of("error"), p)
    if "blocks_until" in data:
        value = data["blocks_until"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= index:
            p.add(data.line_of("blocks_until"), "blocks_until must be a later step's number")
        else:
            exp.blocks_until = value
    return exp


def _error(value: Any, line: int, p: Problems) -> ErrorExpect | None:
    data = _mapping(value, "'error'", line, p)
    if data is None:
        return None
    _unknown(data, {"code", "codeName", "labels", "labelsOmit"}, "error", p)
    code = data.get("code")
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        p.add(data.line_of("code"), "error code must be a number")
        code = None
    labels: dict[str, tuple[str, ...]] = {}
    for key in ("labels", "labelsOmit"):
        items = data.get(key) or []
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            p.add(data.line_of(key), f"{key} must be a list of label names")
            items = []
        labels[key] = tuple(items)
    name = data.get("codeName")
    if name is not None and not isinstance(name, str):
        p.add(data.line_of("codeName"), "codeName must be text, e.g. WriteConflict")
        name = None
    if code is None and not name and not labels["labels"] and not labels["labelsOmit"]:
        p.add(data.line, "an expected error needs code, codeName or labels")
    return ErrorExpect(code, str(name) if name else None, labels["labels"], labels["labelsOmit"])


def _check_blocks(steps: list[Step], p: Problems) -> None:
    count = len(steps)
    for step in steps:
        until = step.expect.blocks_until
        if until is None:
            continue
        if until > count:
            p.add(
                step.line, f"step {step.index}: blocks_until {until}, but there are {count} steps"
            )
            continue
        if step.action in (StepAction.SLEEP, StepAction.FAIL_POINT, StepAction.START_TRANSACTION):
            p.add(step.line, f"step {step.index}: {step.action} cannot block")
        for later in steps[step.index : until]:
            if later.action == StepAction.RECOVER_COMMIT:
                continue  # it goes through a new connection, not the blocked session
            if later.session is not None and later.session == step.session:
                p.add(
                    later.line,
                    f"step {later.index} uses session {step.session!r}, which is still blocked "
                    f"in step {step.index} until step {until}",
                )

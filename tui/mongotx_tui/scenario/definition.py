"""What a scenario file says, once validated: setup, sessions, steps and expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model.lanes import LaneOptions, TxnOptions
from ..model.ops import OpSpec, StepAction

# Actions that are not operations of model/ops.py.
TXN_ACTIONS = (
    StepAction.START_TRANSACTION,
    StepAction.COMMIT,
    StepAction.ABORT,
    StepAction.END_SESSION,
    StepAction.RECOVER_COMMIT,
)
OTHER_ACTIONS = (StepAction.SLEEP, StepAction.FAIL_POINT, StepAction.WITH_TRANSACTION)


@dataclass(frozen=True)
class ErrorExpect:
    """An expected error: every given field must hold; labels are a subset."""

    code: int | None = None
    code_name: str | None = None
    labels: tuple[str, ...] = ()
    labels_omit: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = ["error"]
        if self.code is not None:
            parts.append(str(self.code))
        if self.code_name:
            parts.append(self.code_name)
        text = " ".join(parts)
        if self.labels:
            text += " [" + ", ".join(self.labels) + "]"
        if self.labels_omit:
            text += " without " + ", ".join(self.labels_omit)
        return text


_NO_RESULT = object()


@dataclass
class Expectation:
    """At most one of result / error; blocks_until may accompany either."""

    result: Any = _NO_RESULT
    error: ErrorExpect | None = None
    blocks_until: int | None = None

    @property
    def has_result(self) -> bool:
        return self.result is not _NO_RESULT

    def describe(self) -> str:
        from ..model.literals import format_short

        if self.error is not None:
            what = self.error.describe()
        elif self.has_result:
            what = format_short(self.result)
        else:
            what = "ok"
        if self.blocks_until is not None:
            return f"blocks until step {self.blocks_until}, then {what}"
        return what


@dataclass
class Step:
    index: int  # 1-based position in the file's step list
    line: int  # line of the step in the file
    action: str  # an OpKind value, or one of TXN_ACTIONS / OTHER_ACTIONS
    session: str | None = None
    spec: OpSpec | None = None  # for operations
    ops: list[OpSpec] = field(default_factory=list)  # for withTransaction
    seconds: float = 0.0  # for sleep
    failpoint: dict[str, Any] = field(default_factory=dict)  # {mode, data} for failPoint
    txn: TxnOptions | None = None  # startTransaction / withTransaction options override
    note: str = ""
    expect: Expectation = field(default_factory=Expectation)

    @property
    def is_op(self) -> bool:
        return self.spec is not None

    def label(self) -> str:
        if self.spec is not None:
            return self.spec.label(50, collection=False)
        if self.action == StepAction.SLEEP:
            return f"sleep {self.seconds:g}s"
        if self.action == StepAction.FAIL_POINT:
            if self.failpoint.get("name"):
                return f"failPoint {self.failpoint['name']}"
            return "failPoint " + ", ".join(self.failpoint.get("data", {}).get("failCommands", []))
        if self.action == StepAction.WITH_TRANSACTION:
            return "withTransaction " + "; ".join(s.label(30, collection=False) for s in self.ops)
        return self.action


@dataclass
class Index:
    keys: dict[str, Any]
    unique: bool = False
    name: str | None = None


@dataclass
class CollectionSetup:
    name: str
    documents: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)


@dataclass
class Setup:
    database: str = "mongotx_scenarios"
    collections: list[CollectionSetup] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)  # applied on the sandbox only


@dataclass
class SessionDef:
    name: str
    txn: TxnOptions = field(default_factory=TxnOptions)
    options: LaneOptions = field(default_factory=LaneOptions)  # the session's own


@dataclass
class Scenario:
    name: str
    title: str
    description: str
    teaches: list[str]
    setup: Setup
    sessions: list[SessionDef]
    steps: list[Step]
    verdict: str
    source: str = ""  # the file it came from
    sharded: bool = False  # needs a sharded cluster's router (its steps shard collections)
    members: int = 1  # replica set members it needs (`members: 3`: a 3-member sandbox)

    def session(self, name: str) -> SessionDef:
        for s in self.sessions:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def default_collection(self) -> str:
        return self.setup.collections[0].name if self.setup.collections else "test"

"""A step's details as the timeline keeps them (model.step_detail): started before the step
runs, completed from its outcome, the commands it sent and the lane after it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.step_detail import StepDetail, lane_moment

if TYPE_CHECKING:
    from ..model.lanes import Lane, QueuedOp
    from ..model.monitor import CommandRecord
    from ..scenario.definition import Step
    from .steps import Outcome


def begin(
    step: Step, lane: Lane | None, item: QueuedOp | None, committed: list[dict[str, Any]]
) -> StepDetail | None:
    """The details of a lane's step, with the lane as it is before the step."""
    if lane is None:
        return None
    spec = item.spec if item is not None and item.spec is not None else step.spec
    operation: dict[str, str] = {}
    if spec is not None:
        operation = {"kind": spec.kind.value, "collection": spec.collection}
        operation.update({k: v for k, v in spec.texts.items() if v.strip()})
    txn = step.txn or lane.txn_options
    options = [f"transaction: {txn.describe()}"]
    if lane.options.describe():
        options.append(f"session: {lane.options.describe()}")
    return StepDetail(
        lane=lane.name,
        action=str(step.action),
        operation=operation,
        options=" · ".join(options),
        before=lane_moment(lane, committed),
    )


def finish(detail: StepDetail | None, out: Outcome, records: list[CommandRecord]) -> None:
    """What the server answered: the outcome and the commands of this step."""
    if detail is None:
        return
    detail.result, detail.error, detail.summary = out.result, out.error, out.summary
    detail.duration_ms = out.ms
    detail.commands = list(records)


def after(detail: StepDetail | None, lane: Lane | None, committed: list[dict[str, Any]]) -> None:
    """The lane once the step's replies and the reads after it have come back."""
    if detail is not None and lane is not None:
        detail.after = lane_moment(lane, committed)

"""The lane options dialog: the session's options (causalConsistency, snapshot), the
client's retryWrites, and the options the lane's transactions start with."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ..model.lanes import READ_PREFERENCES, LaneOptions, TxnOptions
from . import DIALOGS_CSS

# The transaction options' choices, here and in the start-transaction dialog (dialogs.py).
READ_CONCERNS = [
    ("server default", ""),
    ("local", "local"),
    ("majority", "majority"),
    ("snapshot", "snapshot"),
]
WRITE_CONCERNS = [("server default", ""), ("w: 1", "1"), ("w: majority", "majority")]


def choices(listed: list[tuple[str, str]], current: str, label: str) -> list[tuple[str, str]]:
    """The choices, with the current value among them (a scenario may name any w)."""
    if any(value == current for _, value in listed):
        return listed
    return [*listed, (f"{label}{current}", current)]


def explain(options: LaneOptions) -> str:
    """What the chosen session options do, in one or two sentences."""
    parts = []
    if options.snapshot:
        parts.append("snapshot: all reads at one cluster time (on the lane); no transactions")
    elif options.causal_consistency:
        parts.append("causal: reads wait for the session's last operationTime")
    else:
        parts.append("causal off: reads carry no afterClusterTime")
    if not options.retry_writes:
        parts.append("retryWrites off: own client, retryable errors reach the lane")
    return "; ".join(parts) + ". A change starts a new session."


class LaneOptionsScreen(ModalScreen[tuple[LaneOptions, TxnOptions] | None]):
    CSS_PATH = DIALOGS_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="lane-options-cancel"),
        Binding("f10", "apply", "Apply", id="lane-options-apply"),
    ]

    def __init__(self, lane_name: str, options: LaneOptions, txn: TxnOptions) -> None:
        super().__init__()
        self.lane_name = lane_name
        self.options = options
        self.txn = txn

    def compose(self) -> ComposeResult:
        o, t = self.options, self.txn
        with Vertical(id="lane-options-dialog", classes="dialog"):
            yield Label(f"Options of lane {self.lane_name}", classes="dialog-title")
            with Vertical(id="lo-switches"):
                yield Checkbox("causalConsistency", o.causal_consistency, id="lo-causal")
                yield Checkbox("snapshot session", o.snapshot, id="lo-snapshot")
                yield Checkbox("retryWrites", o.retry_writes, id="lo-retry")
            yield Static(explain(o), id="lo-note", classes="dim", markup=False)
            yield Label("its transactions start with", classes="lo-label")
            with Grid(id="lo-txn"):
                with Vertical():
                    yield Label("read concern", classes="lo-label")
                    yield Select(
                        choices(READ_CONCERNS, t.read_concern, ""),
                        value=t.read_concern,
                        allow_blank=False,
                        id="rc",
                    )
                with Vertical():
                    yield Label("write concern (commit)", classes="lo-label")
                    yield Select(
                        choices(WRITE_CONCERNS, t.write_concern, "w: "),
                        value=t.write_concern,
                        allow_blank=False,
                        id="wc",
                    )
                with Vertical():
                    yield Label("read preference", classes="lo-label")
                    yield Select(
                        [(p, p) for p in READ_PREFERENCES],
                        value=t.read_preference,
                        allow_blank=False,
                        id="rp",
                    )
                with Vertical():
                    yield Label("maxCommitTimeMS (empty: none)", classes="lo-label")
                    yield Input(str(t.max_commit_time_ms or ""), id="mct", type="integer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply (F10)", variant="primary", id="apply")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self._follow()

    def chosen(self) -> LaneOptions:
        snapshot = self.query_one("#lo-snapshot", Checkbox).value
        return LaneOptions(  # a snapshot session is never causally consistent
            causal_consistency=self.query_one("#lo-causal", Checkbox).value and not snapshot,
            snapshot=snapshot,
            retry_writes=self.query_one("#lo-retry", Checkbox).value,
        )

    @on(Checkbox.Changed)
    def _follow(self, _: Any = None) -> None:
        """A snapshot session is never causally consistent: pymongo refuses both."""
        options = self.chosen()
        self.query_one("#lo-causal", Checkbox).disabled = options.snapshot
        self.query_one("#lo-note", Static).update(explain(options))

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        mct = self.query_one("#mct", Input).value.strip()
        txn = TxnOptions(
            read_concern=str(self.query_one("#rc", Select).value),
            write_concern=str(self.query_one("#wc", Select).value),
            read_preference=str(self.query_one("#rp", Select).value),
            max_commit_time_ms=int(mct) if mct.isdigit() and int(mct) > 0 else None,
        )
        self.dismiss((self.chosen(), txn))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

"""Rich renderables shared by the widgets (queue items, errors, document lists)."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text

from ..model.error_info import ErrorInfo
from ..model.lanes import Lane, OpStatus, QueuedOp, TxnState
from ..model.literals import format_short

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATE_STYLE = {
    TxnState.NONE: "dim",
    TxnState.STARTING: "bold yellow",
    TxnState.IN_PROGRESS: "bold cyan",
    TxnState.SERVER_ABORTED: "bold red",
    TxnState.EXPIRED: "bold red",
    TxnState.COMMIT_UNKNOWN: "bold yellow",
    TxnState.COMMITTED: "bold green",
    TxnState.ABORTED: "bold red",
}


def badges(labels: tuple[str, ...]) -> Text:
    text = Text()
    for label in labels:
        style = "bold black on yellow" if "Transient" in label else "bold white on magenta"
        text.append(f" {label} ", style=style)
        text.append(" ")
    return text


def error_block(err: ErrorInfo, width: int | None = None) -> Text:
    text = Text()
    text.append(f"✗ {err.headline}", style="bold red")
    if err.connection:
        text.append(" (no reply from the server)", style="dim")
    elif err.write_concern:
        text.append(" (write concern error)", style="dim")
    text.append("\n")
    if err.labels:
        text.append_text(badges(err.labels))
        text.append("\n")
    if err.conflict_with:  # before the server's long message: the first thing cut off
        text.append(f"↔ {err.conflict_with}\n", style="yellow")
    text.append(err.message + "\n", style="red")
    text.append("→ " + err.advice, style="italic")
    return text


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms >= 10_000:
        return f"{ms / 1000:.0f} s"
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms"


def queue_item(index: int, item: QueuedOp, now: float, width: int, is_next: bool = False) -> Text:
    label = item.label(max(10, width - 4))
    if item.step is not None:
        return scenario_item(item, label, now, is_next)
    text = Text(no_wrap=True, overflow="ellipsis")
    if item.status is OpStatus.PENDING:
        text.append(f"{index} · ", style="dim")
        text.append(label)
        errors = item.spec.errors() if item.spec is not None else {}
        if errors:
            text.append("\n   ✗ invalid: " + ", ".join(errors), style="red")
        return text
    if item.status is OpStatus.RUNNING:
        why = f": {item.waiting_for}" if item.waiting_for else ""
        return running_item(text, str(index), item, label, now, why)
    where = " (txn)" if item.in_txn else " (no txn)"
    if item.status is OpStatus.DONE and item.rolled_back:
        # Acknowledged, then undone by a failover: the server's list says so (↺ not ✓).
        text.append(f"{index} ↺ ", style="bold yellow")
        text.append(label)
        text.append(f"\n   ↺ {item.rolled_back}", style="bold yellow")
        text.append(f"\n   {item.summary} · {fmt_ms(item.duration_ms)}{where}", style="dim")
        return text
    if item.status is OpStatus.DONE:
        text.append(f"{index} ✓ ", style="bold green")
        text.append(label)
        text.append(f"\n   {item.summary} · {fmt_ms(item.duration_ms)}{where}", style="green")
        return text
    err = item.error
    assert err is not None
    text.append(f"{index} ✗ ", style="bold red")
    text.append(label)
    text.append(f"\n   {err.headline}", style="bold red")
    if err.labels:
        text.append(" ")
        text.append_text(badges(err.labels))
    return text


def running_item(text: Text, number: str, item: QueuedOp, label: str, now: float, why: str) -> Text:
    """A running operation: spinner, elapsed time, and whether the server holds it back."""
    elapsed = max(0.0, now - (item.started_at or now))
    frame = SPINNER[int(elapsed * 10) % len(SPINNER)]
    text.append(f"{number} {frame} ", style="bold yellow")
    text.append(label, style="bold")
    if item.waiting:
        # What $currentOp said speaks for the server itself; else the server holds it back.
        words = why[2:] if why.startswith(": the server") else f"blocked by the server{why}"
        text.append(f"\n   ⏳ waiting {elapsed:.1f} s: {words}", style="yellow")
    else:
        text.append(f"\n   running {elapsed:.1f} s", style="yellow")
    return text


def scenario_item(item: QueuedOp, label: str, now: float, is_next: bool) -> Text:
    """A loaded scenario's step: its number in the scenario, what it expects, and once it
    ran whether it did what the scenario expects (✓ as expected / ✗ expected X, got Y)."""
    step = item.step
    text = Text(no_wrap=True, overflow="ellipsis")
    number = f"{step.index}"
    if item.status is OpStatus.PENDING:
        if is_next:
            text.append(f"{number} ▶ ", style="bold cyan")
            text.append(label, style="bold")
        else:
            text.append(f"{number} · ", style="dim")
            text.append(label)
        expect = step.expect
        if expect.error is not None or expect.blocks_until is not None:
            text.append(f"\n   expect {expect.describe()}", style="dim")
        return text
    if item.status is OpStatus.RUNNING:
        until = step.expect.blocks_until
        why = f": {item.waiting_for}" if item.waiting_for else ""
        if until:
            why += f" (the scenario expects it to wait for step {until})"
        return running_item(text, number, item, label, now, why)
    outcome = item.summary if item.error is None else item.error.one_line()
    if item.check is None:
        text.append(f"{number} … ", style="dim")
        text.append(label)
        text.append(f"\n   {outcome}", style="dim")
        return text
    if item.check == "":
        text.append(f"{number} ✓ ", style="bold green")
        text.append(label)
        text.append("\n   ✓ as expected", style="bold green")
        text.append(f" · {outcome}", style="green" if item.error is None else "red")
        if item.rolled_back:  # later undone by a failover (the server's list)
            text.append(f"\n   ↺ {item.rolled_back}", style="bold yellow")
        return text
    text.no_wrap = False
    text.append(f"{number} ✗ ", style="bold red")
    text.append(label)
    text.append(f"\n   ✗ {item.check}", style="bold red")
    return text


TITLE_COLOUR = {
    TxnState.NONE: "$text-muted",
    TxnState.STARTING: "$warning",
    TxnState.IN_PROGRESS: "$accent",
    TxnState.SERVER_ABORTED: "$error",
    TxnState.EXPIRED: "$error",
    TxnState.COMMIT_UNKNOWN: "$warning",
    TxnState.COMMITTED: "$success",
    TxnState.ABORTED: "$error",
}


def lane_title(lane: Lane) -> str:
    """Border title markup: `Lane A · in progress · txn 3`."""
    colour = TITLE_COLOUR[lane.txn_state]
    title = f"Lane {lane.name} · [{colour}]{lane.txn_state.value}[/]"
    if lane.txn_number is not None and lane.txn_state is not TxnState.NONE:
        title += f" · txn {lane.txn_number}"
    return title


def cluster_time(ts: Any) -> str:
    """A cluster time as `HH:MM:SS#inc` (its seconds as the local time of day)."""
    seconds, inc = getattr(ts, "time", None), getattr(ts, "inc", None)
    if seconds is None:
        return str(ts)
    return f"{time.strftime('%H:%M:%S', time.localtime(seconds))}#{inc}"


def clock_text(lane: Lane) -> Text:
    """The session's causal clock after its last step (operationTime, clusterTime) and a
    snapshot session's read time: `snap 10:00:00#9  op 10:00:01#3 ct 10:00:01#4  `, or
    `op/ct 10:00:01#3` when the two are the same."""
    text = Text()
    if lane.snapshot_time is not None:
        text.append("snap ", style="dim")
        text.append(cluster_time(lane.snapshot_time) + "  ", style="bold")
    op, ct = lane.operation_time, lane.cluster_time
    if op is not None and op == ct:  # the usual case: one time for both
        text.append("op/ct ", style="dim")
        text.append(cluster_time(op) + "  ")
        return text
    if op is not None:
        text.append("op ", style="dim")
        text.append(cluster_time(op) + " ")
    if ct is not None:
        text.append("ct ", style="dim")
        text.append(cluster_time(ct) + "  ")
    return text


def lane_header(lane: Lane, now: float, lifetime_s: float | None) -> Text:
    """Line 1: the session (lsid, where it came from, options); line 2: the transaction's
    state as the server reported it, its times and the lifetime countdown."""
    text = Text(no_wrap=True, overflow="ellipsis")
    state = lane.txn_state
    lsid = lane.lsid[:8] + "…" if lane.lsid else "—"
    text.append("lsid ", style="dim")
    text.append(lsid)
    if lane.session_ended:
        text.append(" (ended)", style="dim")
    if lane.lsid_note and not lane.session_ended:
        text.append(f" ↺ {lane.lsid_note}", style="italic")
    text.append("  ")
    options = lane.options.describe()
    if options:
        text.append(options + "  ", style="bold")
    text.append_text(clock_text(lane))
    text.append(lane.txn_options.describe(), style="dim")
    text.append("\n")
    if state in (TxnState.SERVER_ABORTED, TxnState.EXPIRED):
        text.append(f" {state.value} ", style="bold white on red")
        text.append(" ")
    elif state is TxnState.COMMIT_UNKNOWN:
        text.append(" commit unknown ", style="bold black on yellow")
        text.append(" ")
    if lane.busy:
        text.append(f"⏵ {lane.busy}  ", style="yellow")
    if lane.state_note and not lane.txn_live and state is not TxnState.NONE:
        # the reply that moved the state comes first: it is what the user acts on
        badge = state in (TxnState.SERVER_ABORTED, TxnState.EXPIRED, TxnState.COMMIT_UNKNOWN)
        note = lane.state_note if badge else f"{state.value}: {lane.state_note}"
        text.append(note + "  ", style=STATE_STYLE[state])
    opened = lane.time_open(now)
    left = lane.time_left(now, lifetime_s)
    if opened is not None:
        text.append("open " if lane.txn_live else "was open ", style="dim")
        text.append(f"{opened:.1f} s")
        if lane.txn_live:
            if lifetime_s is None:
                text.append("  lifetime limit unknown", style="dim")
            elif lane.lifetime_note:
                text.append(f"  {lane.lifetime_note}", style="bold red")
            elif left is not None:
                style = "bold red" if left < 10 else ""
                text.append("  left ", style="dim")
                text.append(f"{left:.0f} s", style=style)
                text.append(f" of {lifetime_s:g} s", style="dim")
    elif state is TxnState.STARTING:
        text.append("nothing sent yet: snapshot opens at 1st statement", style="dim")
    elif state is TxnState.NONE:
        text.append("operations run outside any transaction", style="dim")
    if lane.shards:  # a sharded cluster: the participants, as the shards listed them
        text.append("\n")
        text.append(lane.shards, style="bold magenta" if "prepared" in lane.shards else "cyan")
    text.rstrip()
    return text


MARK_STYLE = {" ": "", "~": "yellow", "+": "green", "-": "red strike"}
MARK_WORD = {" ": "", "~": "changed", "+": "inserted", "-": "deleted"}


def doc_line(doc: dict[str, Any]) -> str:
    rest = {k: v for k, v in doc.items() if k != "_id"}
    return f"{format_short(doc.get('_id'))} {format_short(rest)}"


def no_view_reason(lane: Lane, note: str = "") -> str:
    """Why a lane shows no view of its own (lane.view is None)."""
    if note:
        return note
    if lane.txn_state is TxnState.EXPIRED:
        return "the server aborted this transaction at its lifetime limit: abort it, then retry"
    if lane.txn_state is TxnState.SERVER_ABORTED:
        return "the server aborted this transaction: abort it, then retry"
    if lane.txn_state is TxnState.STARTING:
        return "view opens after the first statement"
    if lane.in_txn:
        return "reading…"
    return "no transaction: this session reads the committed state"


def lane_view(marked: list[tuple[str, dict[str, Any]]] | None, note: str, lane: Lane) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if marked is None:
        text.append(no_view_reason(lane, note), style="dim")
        return text
    text.append("inside txn: ", style="dim")
    changed = sum(1 for m, _ in marked if m != " ")
    text.append(f"{changed} differ from committed" if changed else "same as committed", style="dim")
    for mark, doc in marked:
        text.append("\n")
        text.append(f"{mark} ", style=MARK_STYLE[mark] or "dim")
        text.append(doc_line(doc), style=MARK_STYLE[mark])
    return text


def view_doc_line(mark: str, doc: dict[str, Any]) -> Text:
    """One row of the lane documents dialog: `changed  'alice' {balance: 90}`."""
    text = Text(no_wrap=True, overflow="ellipsis")
    word = MARK_WORD[mark] or "same"
    text.append(f"{mark} {word:<8} ", style=MARK_STYLE[mark] or "dim")
    text.append(doc_line(doc), style=MARK_STYLE[mark])
    return text

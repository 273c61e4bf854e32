"""A read-only lane for one application session seen through the proxy: its header (app,
lsid, state) and its statements grouped by transaction, newest last."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.widgets import Static

from ..model.app_sessions import AppSession, AppTxn, Statement, TxnStatus
from ..model.lanes import LANE_COLOURS
from .render import SPINNER, badges, fmt_ms

TXN_STYLE = {
    TxnStatus.OPEN: "bold cyan",
    TxnStatus.COMMITTED: "bold green",
    TxnStatus.ABORTED: "bold red",
    TxnStatus.SERVER_ABORTED: "bold red",
    TxnStatus.COMMIT_UNKNOWN: "bold yellow",
}


def session_title(session: AppSession) -> str:
    app = f" · {session.app_name}" if session.app_name else ""
    return f"{session.name}{app}"


def session_header(session: AppSession, now: float, idle_s: float) -> Text:
    """lsid, state and the newest transaction, on one or two lines."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"lsid {session.short}", style="dim")
    state = session.state(now, idle_s)
    style = "bold yellow" if state == "running" else "bold cyan" if "txn" in state else "dim"
    text.append(f" · {state}", style=style)
    if session.txns:
        count = len(session.txns)
        text.append(f" · {count} txn{'s' if count != 1 else ''}", style="dim")
    return text


def txn_line(txn: AppTxn) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"txn {txn.number} {txn.status}", style=TXN_STYLE[txn.status])
    if txn.retry_of is not None:
        text.append(f" (after txn {txn.retry_of}'s transient error)", style="yellow")
    return text


def statement_text(statement: Statement, now: float) -> Text:
    """`✓ update orders {_id: 1} · 2 ms`, `✗ 112 WriteConflict ↔ S1 (txn 1)` and its
    labels, or a spinner while no reply has come."""
    record = statement.record
    text = Text(no_wrap=True, overflow="ellipsis")
    what = statement.describe()
    attempt = f" #{statement.attempt}" if statement.attempt > 1 else ""
    if statement.running:
        elapsed = max(0.0, now - record.at)
        text.append(f"{SPINNER[int(elapsed * 10) % len(SPINNER)]} ", style="bold yellow")
        text.append(what + attempt, style="bold")
        text.append(f"\n   running {elapsed:.1f} s", style="yellow")
        return text
    if not record.expects_reply:
        text.append("↗ ", style="bold")
        text.append(what + attempt)
        text.append(" · no reply expected (w:0)", style="dim")
        return text
    if statement.ok:
        text.append("✓ ", style="bold green")
        text.append(what + attempt)
        text.append(f" · {fmt_ms(record.duration_ms)}", style="green")
        return text
    text.append("✗ ", style="bold red")
    text.append(what + attempt)
    if record.reply is None:
        text.append(f"\n   {record.outcome()}", style="bold red")
        return text
    text.append(f"\n   {statement.code} {statement.code_name}", style="bold red")
    if statement.conflict_short:
        text.append(f" ↔ {statement.conflict_short}", style="yellow")
    if statement.labels:  # a line of their own: a narrow lane cuts the end of a line
        text.append("\n   ")
        text.append_text(badges(statement.labels))
    return text


def session_body(session: AppSession, now: float) -> Text:
    """The kept statements, a line per transaction where one starts; the dropped counted."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if session.dropped:
        text.append(f"… {session.dropped} older statements not kept\n", style="dim")
    last_txn: int | None = None
    for statement in session.statements:
        if statement.txn is not None and statement.txn != last_txn:
            text.append_text(txn_line(session.txns[statement.txn]))
            text.append("\n")
        last_txn = statement.txn
        indent = "  " if statement.txn is not None else ""
        line = statement_text(statement, now)
        text.append(indent)
        text.append_text(line)
        text.append("\n")
    if not session.statements:
        text.append("(no statement yet)", style="dim")
    text.rstrip()
    return text


class StatementsScroll(VerticalScroll):
    """A lane's statements: the newest stays in sight, unless the user is reading the lane
    (it has focus). Scrolled when its content's size changes, i.e. once the new lines are
    laid out: a scroll to the end asked for after a refresh could run before that layout
    and stop short of them (ci-16: the live view's snapshot came out either way)."""

    def watch_virtual_size(self, size: Size) -> None:
        if not self.has_focus:
            self.scroll_end(animate=False)  # after the refresh that lays the lines out


class AppLane(Vertical):
    """Receives an AppSession (state down); has no actions."""

    def __init__(self, session: AppSession) -> None:
        super().__init__(classes=f"lane app-lane lane-{session.colour}")
        self.session = session
        self.border_title = session_title(session)
        self._shown: dict[str, tuple[object, ...]] = {}

    def compose(self) -> ComposeResult:
        yield Static(classes="lane-header", markup=False)
        with StatementsScroll(classes="lane-body"):
            yield Static(classes="app-statements", markup=False)

    def update_session(self, now: float, idle_s: float) -> None:
        session = self.session
        self.border_title = session_title(session)
        finished = session.finished(now, idle_s)
        self.set_class(session.open_txn is not None, "-in-txn")
        self.set_class(bool(session.running), "-busy")
        self.set_class(finished, "-finished")
        for colour in LANE_COLOURS:
            self.set_class(colour == session.colour, f"lane-{colour}")
        self.border_subtitle = f"{session.total} statements" if session.total else ""
        self._set(".lane-header", session_header(session, now, idle_s))
        self._set(".app-statements", session_body(session, now))

    def _set(self, selector: str, content: Text) -> bool:
        """Update a Static only when what it shows changes (each update lays out again)."""
        key = (content.plain, tuple(content.spans))
        if self._shown.get(selector) == key:
            return False
        self._shown[selector] = key
        self.query_one(selector, Static).update(content)
        return True

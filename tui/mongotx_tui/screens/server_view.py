"""The server view: the deployment's open transactions (the lanes' and anyone else's) and
the operations waiting behind them, from `$currentOp`, refreshed while open; k kills the
highlighted session (killSessions, after a confirmation)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowDoesNotExist

from ..keys import SERVER_VIEW_KEYS, bindings
from ..model.server_view import ServerTxn, ServerView
from ..widgets.footer import KeyFooter

if TYPE_CHECKING:
    from ..backend.workbench import Workbench
    from ..model.sharding import ClusterView

REFRESH_S = 1.0  # how often it reads $currentOp while open
# The columns by width: the client and namespaces from 110 cells.
COLUMNS = {
    "wide": ("owner", "lsid", "txn", "client", "open", "left", "namespaces", "now"),
    "narrow": ("owner", "lsid", "txn", "open", "left", "now"),
}
TITLES = {
    "owner": "held by",
    "lsid": "lsid",
    "txn": "txn",
    "client": "client",
    "open": "open",
    "left": "expires in",
    "namespaces": "namespaces",
    "now": "now",
}
WIDTHS = {"owner": 12, "lsid": 9, "txn": 3, "client": 21, "open": 7, "left": 10, "namespaces": 16}


def _seconds(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _now(txn: ServerTxn) -> Text:
    if txn.active:
        return Text(f"running {txn.running}", style="yellow")
    text = Text("idle", style="dim")
    if txn.waiting:
        text.append(f" · {len(txn.waiting)} waiting behind", style="bold red")
    return text


def _client(txn: ServerTxn) -> str:
    return " ".join(part for part in (txn.app, txn.client) if part) or "—"


class ServerViewScreen(Screen[None]):
    """Receives the workbench (to read through its backend); shows what the server said."""

    CSS_PATH = Path(__file__).parent / "server_view.tcss"
    BINDINGS = bindings(SERVER_VIEW_KEYS)  # type: ignore[assignment]

    def __init__(self, wb: Workbench) -> None:
        super().__init__(id="server-view")
        self.wb = wb
        self.view = ServerView()
        self._seen: dict[tuple[str, int], set[str]] = {}  # namespaces per transaction
        self._mode = ""
        self.reads = 0  # $currentOp reads shown (tests wait on it)
        self.cluster: ClusterView | None = None  # a sharded cluster's shards and participants

    def compose(self) -> ComposeResult:
        yield Static("Server view · reading $currentOp…", id="sv-status", markup=False)
        yield DataTable(id="sv-txns", cursor_type="row", zebra_stripes=False)
        yield Static("", id="sv-detail", markup=False)
        yield Static("", id="sv-waiting", markup=False)
        yield Static("", id="sv-cluster", markup=False)  # a sharded cluster's participants
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#sv-txns", DataTable)
        table.border_title = "Open transactions"
        self._layout("wide" if self.size.width >= 110 else "narrow")
        table.focus()
        self.refresh_view()
        self.refresher = self.set_interval(REFRESH_S, self.refresh_view)

    def on_resize(self, event: events.Resize) -> None:
        mode = "wide" if event.size.width >= 110 else "narrow"
        if mode != self._mode:
            self._layout(mode)
            self._show()

    def _layout(self, mode: str) -> None:
        self._mode = mode
        table = self.query_one("#sv-txns", DataTable)
        table.clear(columns=True)
        for key in COLUMNS[mode]:
            table.add_column(TITLES[key], key=key, width=WIDTHS.get(key))

    # -- reading (IO in a worker) ------------------------------------------------------
    @work(exclusive=True, group="server-view", exit_on_error=False, description="$currentOp")
    async def refresh_view(self) -> None:
        from ..backend.server_view import read_server_view

        self.view = await read_server_view(self.wb, self._seen)
        from ..backend.sharding import is_sharded

        if is_sharded(self.wb):
            from ..backend.server_view import lane_sessions
            from ..backend.sharding import read_cluster

            self.cluster = await read_cluster(self.wb, lane_sessions(self.wb)[0])
        self.reads += 1
        self._show()

    # -- state down --------------------------------------------------------------------
    def _show(self) -> None:
        view = self.view
        table = self.query_one("#sv-txns", DataTable)
        keep = self._highlighted()
        table.clear()
        colours = {lane.name: lane.colour for lane in self.wb.lanes}
        for txn in view.txns:
            owner = Text(txn.owner, style=f"bold {colours[txn.lane]}" if txn.lane else "bold")
            cells = {
                "owner": owner,
                "lsid": txn.short_lsid,
                "txn": str(txn.txn_number),
                "client": txn.client or "—",  # its appName is in the detail below
                "open": _seconds(txn.open_s),
                "left": _seconds(txn.left_s, 0),
                "namespaces": ", ".join(txn.namespaces) or "—",
                "now": _now(txn),
            }
            table.add_row(*(cells[k] for k in COLUMNS[self._mode]), key=self._key(txn))
        if keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(keep), animate=False)
            except RowDoesNotExist:
                pass
        self._show_status()
        self._show_detail()
        self._show_waiting()
        self._show_cluster()

    def _show_cluster(self) -> None:
        """A sharded cluster: its shards, each open transaction's participants and the
        prepared ones with their prepareTimestamp (the shards' $currentOp)."""
        box = self.query_one("#sv-cluster", Static)
        cluster = self.cluster
        box.display = cluster is not None
        if cluster is None:
            return
        text = Text(no_wrap=False)
        text.append("Sharded cluster", style="bold")
        text.append(f" · {cluster.header()}")
        if cluster.error:
            text.append(f"\n{cluster.error}", style="bold red")
        prepared = cluster.prepared()
        text.append(f"\nPrepared transactions: {len(prepared)}", style="bold")
        if prepared:
            text.append(" (reads of their documents wait until the coordinator decides)", "dim")
        for txn in cluster.txns:
            text.append("\n• ")
            text.append(txn.line(), style="bold red" if txn.prepared else "")
        box.update(text)

    @staticmethod
    def _key(txn: ServerTxn) -> str:
        return f"{txn.lsid}:{txn.txn_number}"

    def _highlighted(self) -> str | None:
        txn = self.selected()
        return self._key(txn) if txn is not None else None

    def selected(self) -> ServerTxn | None:
        table = self.query_one("#sv-txns", DataTable)
        if not self.view.txns or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), len(self.view.txns) - 1)
        return self.view.txns[row]

    def _show_status(self) -> None:
        view = self.view
        status = self.query_one("#sv-status", Static)
        text = Text(no_wrap=False)
        text.append("Server view", style="bold")
        if view.error:
            text.append(f" · {view.error}", style="bold red")
        else:
            n = len(view.txns)
            ours = sum(1 for t in view.txns if t.lane)
            text.append(
                f" · {n} open transaction{'s' if n != 1 else ''} ({ours} of this workbench's "
                f"lanes, {n - ours} other) · $currentOp every {REFRESH_S:g} s",
                style="dim",
            )
        if view.note:
            text.append(f"\n{view.note}", style="yellow")
        status.update(text)

    def _show_detail(self) -> None:
        detail = self.query_one("#sv-detail", Static)
        txn = self.selected()
        if txn is None:
            detail.update(
                Text("No open transaction on the server." if not self.view.error else "", "dim")
            )
            return
        text = Text(no_wrap=False)
        text.append(txn.owner, style="bold")
        text.append(f" · lsid {txn.short_lsid} · txn {txn.txn_number}")
        if txn.app or txn.client:
            text.append(f" · client {_client(txn)}", style="dim")
        text.append("\n")
        if txn.active:
            text.append(f"running {txn.running}", style="yellow")
        else:
            text.append("idle: no statement running", style="dim")
        text.append(f" · open {_seconds(txn.open_s)} · expires in {_seconds(txn.left_s, 0)}")
        names = ", ".join(txn.namespaces) or "not reported while idle"
        text.append(f" · namespaces {names}", style="dim")
        if txn.waiting:
            text.append("\nWaiting behind it: ", style="bold red")
            text.append("; ".join(w.line() for w in txn.waiting))
        detail.update(text)

    def _show_waiting(self) -> None:
        box = self.query_one("#sv-waiting", Static)
        box.display = bool(self.view.waiting)
        text = Text(no_wrap=False)
        text.append("Waiting for a lock", style="bold")
        for w in self.view.waiting:
            text.append("\n• ")
            text.append(w.line())
            text.append(f", {w.behind_text()}", style="dim")
        box.update(text)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    # -- actions -----------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss(None)

    def action_kill(self) -> None:
        from .confirm import ConfirmScreen

        txn = self.selected()
        if txn is None:
            self.notify("No open transaction to kill", severity="warning")
            return
        effect = (
            f"its running {txn.running} fails with 11601 Interrupted and " if txn.active else ""
        )
        mine = (
            f"Lane {txn.lane} shows it at its next reply."
            if txn.lane
            else "Its owner's next statement or commit gets 251 NoSuchTransaction."
        )
        message = (
            f"killSessions ends {txn.owner}'s session (lsid {txn.short_lsid}): "
            f"{effect}the server aborts txn {txn.txn_number}; nothing it wrote is kept. {mine}"
        )

        def chosen(choice: str | None) -> None:
            if choice == "kill":
                self.kill_worker(txn)

        self.app.push_screen(
            ConfirmScreen(f"Kill {txn.owner}'s session?", message, [("kill", "Kill session")]),
            chosen,
        )

    @work(group="server-kill", exit_on_error=False, description="killSessions")
    async def kill_worker(self, txn: ServerTxn) -> None:
        from ..backend.server_view import kill_session

        ok, outcome = await kill_session(self.wb, txn)
        self.notify(
            f"killSessions: {outcome}", severity="information" if ok else "error", markup=False
        )
        self.refresh_view()

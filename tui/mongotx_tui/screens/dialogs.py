"""Small screens: transaction options, document view, help, connect, faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Select, Static

from ..keys import ALL_KEYS, display_key
from ..model.lanes import READ_PREFERENCES, TxnOptions
from ..model.literals import format_value
from . import DIALOGS_CSS, LIVE_VIEW
from .lane_options import READ_CONCERNS, WRITE_CONCERNS, choices

if TYPE_CHECKING:
    from ..backend.confine import Served


class TxnOptionsScreen(ModalScreen[TxnOptions | None]):
    CSS_PATH = DIALOGS_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="txn-cancel"),
        Binding("f10", "start", "Start", id="txn-start"),
    ]

    def __init__(self, lane_name: str, options: TxnOptions) -> None:
        super().__init__()
        self.lane_name = lane_name
        self.options = options

    def compose(self) -> ComposeResult:
        o = self.options
        with Vertical(id="txn-dialog", classes="dialog"):
            yield Label(f"Start a transaction in lane {self.lane_name}", classes="dialog-title")
            yield Label("read concern")
            yield Select(
                choices(READ_CONCERNS, o.read_concern, ""),
                value=o.read_concern,
                allow_blank=False,
                id="rc",
            )
            yield Label("write concern (commit)")
            yield Select(
                choices(WRITE_CONCERNS, o.write_concern, "w: "),
                value=o.write_concern,
                allow_blank=False,
                id="wc",
            )
            yield Label("read preference (a transaction must read from the primary)")
            yield Select(
                [(p, p) for p in READ_PREFERENCES],
                value=o.read_preference,
                allow_blank=False,
                id="rp",
            )
            yield Label("maxCommitTimeMS (empty: none)")
            yield Input(str(o.max_commit_time_ms or ""), id="mct", type="integer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start (F10)", variant="primary", id="start")
                yield Button("Cancel (Esc)", id="cancel")

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        mct = self.query_one("#mct", Input).value.strip()
        self.dismiss(
            TxnOptions(
                read_concern=str(self.query_one("#rc", Select).value),
                write_concern=str(self.query_one("#wc", Select).value),
                read_preference=str(self.query_one("#rp", Select).value),
                max_commit_time_ms=int(mct) if mct else None,
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class DocumentScreen(ModalScreen[None]):
    CSS_PATH = DIALOGS_CSS
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="doc-close"),
        Binding("y", "copy", "Copy JSON", id="doc-copy"),
    ]

    def __init__(
        self,
        doc: dict[str, Any],
        title: str = "Document",
        compare: dict[str, Any] | None = None,
        compare_title: str = "",
    ) -> None:
        """`compare`, when given, is shown below `doc` under `compare_title` (a lane's
        changed document: the session's version, then the committed one). y copies `doc`."""
        super().__init__()
        self.doc = doc
        self.title_text = title
        self.json = format_value(doc, indent=2)
        self.compare_json = format_value(compare, indent=2) if compare is not None else None
        self.compare_title = compare_title

    def compose(self) -> ComposeResult:
        with Vertical(id="doc-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll():
                yield Static(
                    Syntax(self.json, "json", theme="ansi_dark", word_wrap=True), id="doc-json"
                )
                if self.compare_json is not None:
                    yield Label(self.compare_title, classes="field-label", markup=False)
                    yield Static(
                        Syntax(self.compare_json, "json", theme="ansi_dark", word_wrap=True),
                        id="doc-compare",
                    )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy JSON (y)", variant="primary", id="copy")
                yield Button("Close (Esc)", id="close")

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        # Textual writes OSC 52, which works over SSH and in tmux (set-clipboard on).
        self.app.copy_to_clipboard(self.json)
        self.notify(f"Copied {len(self.json)} characters as JSON (OSC 52)")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = DIALOGS_CSS
    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help-close")]

    def __init__(self, keymap_note: str = "") -> None:
        super().__init__()
        self.keymap_note = keymap_note

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("id", style="dim", no_wrap=True)
        table.add_column("what it does")
        keymap = getattr(self.app, "effective_keys", {})
        for d in ALL_KEYS:
            key = display_key(keymap.get(d.id, d.key))
            # Text, not str: rich reads a str cell as markup, and "[" is a key here.
            table.add_row(Text(key), Text(d.id), Text(d.help or d.description))
        notes = Text(
            "\nLanes are sessions. Start a transaction (t), queue operations (a), step them (s)"
            " and commit (c) or abort (x). The committed panel shows what a reader outside any"
            " transaction sees; each lane shows what its transaction reads, with ~ changed,"
            " + inserted, - not visible. Load a scenario (l) and run it step by step (n): each"
            " step shows ✓ as expected or ✗ what it expected; w saves the workbench as a"
            " scenario, p exports it as a pymongo script. Remap keys by id in the config"
            " file's [keymap] table.\n" + self.keymap_note,
            style="dim",
        )
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("mongotx-tui keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(Group(table, notes))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (Esc)", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


SANDBOX_3 = "sandbox:3"  # ConnectScreen's answer for the sandbox of three members


class ConnectScreen(ModalScreen[str | None]):
    """Returns a URI, "" for the sandbox, SANDBOX_3 for a sandbox of three members (issue
    13: a replica set with secondaries), or None when cancelled."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="connect-cancel")]

    def __init__(self, current: str, error: str = "", served: Served | None = None) -> None:
        super().__init__()
        self.current = current
        # A browser tab of `serve` without --allow-connect offers only its own sandbox.
        self.refusal = served.connect_refusal if served and not served.allow_connect else ""
        self.error = error or self.refusal

    def compose(self) -> ComposeResult:
        with Vertical(id="connect-dialog", classes="dialog"):
            yield Label("Switch deployment", classes="dialog-title")
            yield Label(f"now: {self.current}", classes="dim", markup=False)
            yield Input(
                placeholder="mongodb://user:pass@host:27017/?replicaSet=rs0",
                id="uri",
                password=False,
            )
            yield Static(self.error, id="connect-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Connect", variant="primary", id="go")
                yield Button("Sandbox", id="sandbox")
                yield Button("Sandbox, 3 members", id="sandbox-3")
                yield Button(self._proxy_label(), id="proxy")
                yield Button("Cancel (Esc)", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        if self.refusal:
            self.query_one("#connect-error", Static).update(self.refusal)
            return
        uri = self.query_one("#uri", Input).value.strip()
        if not uri:
            self.query_one("#connect-error", Static).update(
                "Type a mongodb:// or mongodb+srv:// URI"
            )
            return
        from ..backend.connection import BadURI, client_options

        try:
            client_options(uri)
        except BadURI as exc:
            self.query_one("#connect-error", Static).update(f"✗ {exc}")
            return
        self.dismiss(uri)

    @on(Button.Pressed, "#sandbox")
    def _sandbox(self) -> None:
        self.dismiss("")

    @on(Button.Pressed, "#sandbox-3")
    def _sandbox_3(self) -> None:
        self.dismiss(SANDBOX_3)

    def _proxy_label(self) -> str:
        return "Live view" if self.app.is_screen_installed(LIVE_VIEW) else "Watch an app (proxy)"

    @on(Button.Pressed, "#proxy")
    def _proxy(self) -> None:
        """Watch an application through a proxy, or back to the live view of the one
        running (the app's action: screens/proxy_dialog.py)."""
        if self.refusal:  # a proxy reaches any upstream: the same limit as a URI
            self.query_one("#connect-error", Static).update(self.refusal)
            return
        app = self.app
        self.dismiss(None)
        app.call_later(app.run_action, "watch_application")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class FaultScreen(Screen[str]):
    """A deployment could not be reached: the error, and what to do. Returns the choice."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [
        Binding("r", "choose('retry')", "Retry", id="fault-retry"),
        Binding("s", "choose('sandbox')", "Open sandbox", id="fault-sandbox"),
        Binding("q", "choose('quit')", "Quit", id="fault-quit"),
    ]

    def __init__(self, title: str, message: str, uri_masked: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.uri_masked = uri_masked

    def compose(self) -> ComposeResult:
        with Vertical(id="fault", classes="dialog"):
            yield Label(f"✗ {self.title_text}", classes="dialog-title fault-title")
            yield Static(f"URI: {self.uri_masked}", classes="dim", markup=False)
            yield Static(self.message, id="fault-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Retry (r)", variant="primary", id="retry")
                yield Button("Open sandbox (s)", id="sandbox")
                yield Button("Quit (q)", id="quit")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "quit")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

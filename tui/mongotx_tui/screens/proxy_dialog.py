"""Watch an application through a proxy (from the connect dialog, F2): the upstream URI
and the local address; starts the proxy (backend/proxy) and opens the live view."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from . import DIALOGS_CSS, LIVE_VIEW

DEFAULT_LISTEN = "127.0.0.1:27018"


def watch_application(app: Any) -> None:
    """Back to the live view of the running proxy, or the dialog that starts one (offering
    the workbench's sandbox as the upstream: its URI has no password)."""
    if app.is_screen_installed(LIVE_VIEW):
        app.push_screen(LIVE_VIEW)
        return
    wb = getattr(app, "wb", None)
    sandbox = wb.sandbox.uri if wb is not None and wb.sandbox is not None else ""
    app.push_screen(ProxyScreen(sandbox))


def open_live_view(app: Any, proxy: Any, owns: bool, upstream_uri: str = "") -> None:
    """Show the live view of `proxy`; it stays installed (escape keeps it), and the
    connect dialog brings it back."""
    from .app_sessions import AppSessionsScreen

    if not app.is_screen_installed(LIVE_VIEW):
        screen = AppSessionsScreen(proxy, owns=owns, upstream_uri=upstream_uri)
        app.install_screen(screen, LIVE_VIEW)
    app.push_screen(LIVE_VIEW)


class ProxyScreen(ModalScreen[None]):
    """Asks where the application's deployment is and where to listen."""

    CSS_PATH = DIALOGS_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="proxy-cancel")]

    def __init__(self, upstream: str = "") -> None:
        """`upstream`: a URI to offer (the workbench's sandbox; never one with a password)."""
        super().__init__()
        self.upstream = upstream

    def compose(self) -> ComposeResult:
        with Vertical(id="proxy-dialog", classes="dialog"):
            yield Label("Watch an application through a proxy", classes="dialog-title")
            yield Static(
                "The proxy forwards the application's traffic to its deployment and shows its "
                "sessions live. The application's side is plain TCP (no TLS), on this "
                "machine's loopback; the upstream is reached with the URI's TLS options.",
                classes="dim",
                markup=False,
            )
            yield Label("upstream deployment (the application's own URI)", classes="field-label")
            yield Input(
                self.upstream,
                placeholder="mongodb://host:27017/?replicaSet=rs0",
                id="proxy-uri",
            )
            yield Label("listen on", classes="field-label")
            yield Input(DEFAULT_LISTEN, id="proxy-listen")
            yield Static("", id="proxy-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start proxy", variant="primary", id="start")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#proxy-uri", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#proxy-error", Static).update(f"✗ {text}" if text else "")

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        uri = self.query_one("#proxy-uri", Input).value.strip()
        host, _, port = self.query_one("#proxy-listen", Input).value.strip().rpartition(":")
        if not uri:
            self._error("Type the URI the application uses (mongodb:// or mongodb+srv://)")
            return
        if not host or not port.isdigit() or int(port) > 65535:
            self._error("listen on HOST:PORT, e.g. 127.0.0.1:27018 (port 0 picks a free one)")
            return
        self._error("")
        self.query_one("#start", Button).disabled = True
        self.start_worker(uri, (host.strip("[]"), int(port)))

    @work(exclusive=True, group="proxy-start", exit_on_error=False, description="start proxy")
    async def start_worker(self, uri: str, listen: tuple[str, int]) -> None:
        from ..backend.connection import BadURI
        from ..backend.proxy import start_proxy

        try:
            handle = await asyncio.to_thread(start_proxy, uri, listen)
        except BadURI as exc:
            self._error(f"bad URI: {exc}")
        except OSError as exc:
            self._error(f"cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}")
        else:
            app = self.app
            self.dismiss(None)
            open_live_view(app, handle, owns=True, upstream_uri=uri)
            return
        self.query_one("#start", Button).disabled = False

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

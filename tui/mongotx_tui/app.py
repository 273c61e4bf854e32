"""MongoTxApp: wires the workbench screen, global keys, palette commands and config."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .config import Config, load_config, search_paths
from .keys import ALL_KEYS, APP_KEYS, WORKBENCH_KEYS, bindings, display_key

if TYPE_CHECKING:
    from .backend.confine import Served
    from .screens.workbench_screen import WorkbenchScreen


class MongoTxApp(App[None]):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses live elsewhere
    TITLE = "mongotx-tui"
    # Tab and shift+tab as Textual's screens bind them, but as priority bindings: Textual
    # runs a screen's own bindings only once the key has gone down to the focused widget
    # and bubbled back up to the app, and by then the app has already sent the keys read
    # after it to the old focus (the path typed after Tab went to the load dialog's list).
    # A priority binding runs when the app reads the key, so focus moves in typing order.
    BINDINGS = [  # type: ignore[assignment]
        *bindings(APP_KEYS),
        Binding("tab", "focus_next", "Focus next", show=False, priority=True, id="focus-next"),
        Binding(
            "shift+tab",
            "focus_previous",
            "Focus previous",
            show=False,
            priority=True,
            id="focus-previous",
        ),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(
        self,
        uri: str | None = None,
        db: str = "bank",
        collection: str = "accounts",
        *,
        clock: Callable[[], float] = time.time,
        perf: Callable[[], float] = time.perf_counter,
        sandbox_port: int = 0,
        config: Config | None = None,
        present: bool = False,
        members: int = 1,
        served: Served | None = None,
        own_uri: str | None = None,
    ) -> None:
        super().__init__()
        from .backend.workbench import Workbench

        self.config = config if config is not None else load_config()
        self.wb = Workbench(
            uri,
            db,
            collection,
            clock=clock,
            perf=perf,
            sandbox_port=sandbox_port,
            members=members,
            own_uri=own_uri,  # `--sharded`: the cluster this process started
        )
        self.effective_keys: dict[str, str] = {}
        self.ready_at: float | None = None
        self.leave_open = False  # quit without aborting the lanes' open transactions
        self.present = present  # start in presenter mode (--present)
        self.served = served  # a browser tab of `mongotx-tui serve`: its limits (confine.py)

    def get_default_screen(self) -> Screen[Any]:
        """The workbench is the app's first screen (no blank screen is laid out first)."""
        from .screens.workbench_screen import WorkbenchScreen

        return WorkbenchScreen(self.wb)

    def on_mount(self) -> None:
        problems = list(self.config.problems)
        if self.config.theme:
            if self.config.theme in self.available_themes:
                self.theme = self.config.theme
            else:
                known = ", ".join(sorted(self.available_themes))
                problems.append(f'theme = "{self.config.theme}": no such theme (known: {known})')
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        known_keys = {d.id: d.key for d in ALL_KEYS}
        self.effective_keys = {**known_keys, **self.config.keymap}
        if problems:
            self.notify(
                "\n".join(problems),
                title=f"Problems in {self.config.path} (these settings are ignored)",
                severity="warning",
                markup=False,
                timeout=30,
            )
        self.set_timer(5, self.resume_gc)  # also when the workbench never gets ready

    def on_workbench_screen_ready(self, _: WorkbenchScreen.Ready) -> None:
        self.ready_at = time.perf_counter()
        self.resume_gc()

    def resume_gc(self) -> None:
        """Cyclic garbage collection back on (main() turns it off for the start).

        What the start built (modules, styles, widgets: most of the heap) lives as long as
        the app, so it is frozen out of the collector first: otherwise each full collection
        walks all of it, a 40-100 ms pause every few seconds of use that delayed keys and
        panel updates."""
        if not gc.isenabled():
            gc.freeze()
            gc.enable()

    async def on_unmount(self) -> None:
        await self.wb.close(leave_open=self.leave_open)

    async def action_quit(self) -> None:
        """Quit; with transactions open, first ask what becomes of them."""
        open_txns = self.wb.open_transactions()
        if not open_txns or self.wb.client is None:
            self.exit()
            return
        from .screens.confirm import ConfirmScreen, open_transactions_text

        who = open_transactions_text([lane.name for lane in open_txns])
        if self.wb.is_sandbox:
            message = (
                f"{who}. The sandbox stops with the app: its documents and open "
                "transactions go with it."
            )
            choices = [("quit", "Quit")]
        else:
            d = self.wb.deployment
            seconds = self.wb.lifetime_limit_s  # None where getParameter was refused
            limit = f"{seconds:g} s" if seconds is not None else "its value, unknown here"
            message = (
                f"{who} on {d.uri_masked if d else 'the server'}.\n"
                "Abort: each transaction is aborted and its session ended; nothing it wrote "
                "is kept.\n"
                "Leave open: the server keeps each one, with the documents it wrote, until "
                f"transactionLifetimeLimitSeconds ({limit}) pass, then aborts it; until then "
                "other sessions' writes to those documents wait or fail with WriteConflict."
            )
            choices = [("abort", "Abort and quit"), ("leave", "Leave open and quit")]

        def chosen(choice: str | None) -> None:
            if choice is not None:
                self.leave_open = choice == "leave"
                self.exit()

        self.push_screen(ConfirmScreen("Quit with open transactions?", message, choices), chosen)

    def action_watch_application(self) -> None:
        """The connect dialog's proxy choice (issue 12): the live view of an application.
        A browser tab without --allow-connect may not: a proxy reaches any upstream and
        listens on a port of the machine running `serve`."""
        if self.served is not None and not self.served.allow_connect:
            self.notify(self.served.connect_refusal, severity="error")
            return
        from .screens.proxy_dialog import watch_application

        watch_application(self)

    def action_help(self) -> None:
        from .screens.dialogs import HelpScreen

        note = f"Config file: {self.config.path}" if self.config.path else ""
        if not note:
            note = "Config file (none yet): " + str(search_paths()[-1])
        self.push_screen(HelpScreen(note))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from .screens.workbench_screen import WorkbenchScreen

        workbench = next((s for s in self.screen_stack if isinstance(s, WorkbenchScreen)), None)
        if workbench is None:
            return
        for d in WORKBENCH_KEYS:
            action = getattr(workbench, f"action_{d.action}", None)
            if action is not None:
                key = self.effective_keys.get(d.id, d.key)
                yield SystemCommand(f"{d.description} ({display_key(key)})", d.help, action)
        yield SystemCommand("Help: all keys (f1)", "List every key and its id", self.action_help)

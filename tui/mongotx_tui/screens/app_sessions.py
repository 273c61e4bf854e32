"""The live view (issue 12 item 2): an application's sessions seen through the proxy, each
a read-only lane, with the timeline of their statements and the command monitor.

The proxy calls `observer` on its own thread; the records wait in a thread-safe queue
that the screen drains on its own loop every DRAIN_S (a burst of traffic is one refresh).
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import HorizontalScroll, Vertical
from textual.screen import Screen
from textual.widgets import Static

from ..keys import APP_SESSIONS_KEYS, bindings
from ..model.app_sessions import AppSessions, SessionFilter
from ..model.proxy_records import ConnectionNotice, ProxyRecord
from ..widgets.app_lane import AppLane
from ..widgets.footer import KeyFooter
from ..widgets.monitor import CommandMonitor, MonitorLines
from ..widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from ..backend.proxy import ProxyHandle

DRAIN_S = 0.1  # how often the records the proxy handed over are shown
MAX_LANES = 12  # lanes on screen at once: the sessions active most recently
LANE_MIN = 30  # columns a read-only lane keeps; more lanes than fit scroll sideways
TICK_S = 1.0  # running statements' timers and sessions going idle


class QueueObserver:
    """A ProxyObserver for any thread: it only queues what it is told."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def command(self, record: ProxyRecord) -> None:
        self.queue.put(("command", record))

    def reply(self, record: ProxyRecord) -> None:
        self.queue.put(("reply", record))

    def connection(self, notice: ConnectionNotice) -> None:
        self.queue.put(("connection", notice))


def _cycle(values: list[str], now: str) -> str:
    """The next of "" (all) and `values` after `now`."""
    options = ["", *values]
    return options[(options.index(now) + 1) % len(options)] if now in options else ""


class AppSessionsScreen(Screen[None]):
    """Receives what the proxy observed (through `observer`); shows it, read-only."""

    CSS_PATH = Path(__file__).parent / "app_sessions.tcss"
    BINDINGS = bindings(APP_SESSIONS_KEYS)  # type: ignore[assignment]

    def __init__(
        self,
        proxy: ProxyHandle | None = None,
        *,
        owns: bool = False,
        upstream_uri: str = "",
        listen: str = "",
        upstream: str = "",
        clock: Callable[[], float] = time.time,
        keep: int | None = None,
    ) -> None:
        """Shows what `proxy` observes from mount on; `owns`: the screen started it and
        stops it when the app closes. `listen` and `upstream` name the addresses when no
        proxy is given (tests feed `observer` themselves). `upstream_uri` (never shown: it
        may hold a password) lets a capture read its setup from the upstream."""
        super().__init__(id="app-sessions")
        self.proxy = proxy
        self.owns = owns
        self.upstream_uri = upstream_uri
        self.listen = proxy.address if proxy is not None else listen
        if proxy is not None:
            tls = " (TLS)" if proxy.upstream.tls is not None else ""
            upstream = f"{proxy.upstream.seed}{tls}"
        self.upstream = upstream
        self.clock = clock
        self.observer = QueueObserver()
        self.model = AppSessions() if keep is None else AppSessions(keep=keep)
        self.filter = SessionFilter()
        self._monitor_lane: int | None = None
        self._monitor_internal = False
        self.collector: Any = None  # the capture being recorded (backend.proxy.collect)
        self.drained = 0  # how many observations were shown (tests wait on it)
        self.said = ""  # the last message the view gave (a toast)
        self.saved: Path | None = None  # the last capture saved
        self.hidden = 0  # sessions that match the filter but have no lane (MAX_LANES)

    def compose(self) -> ComposeResult:
        yield Static("", id="ps-header", markup=False)
        yield Static("", id="ps-notice", markup=False)
        with HorizontalScroll(id="ps-lanes"):
            yield Static(self._waiting(), id="ps-empty", markup=False)
        with Vertical(id="ps-bottom"):
            yield TimelineTable()
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_header()
        self.query_one(TimelineTable).focus()
        self.set_interval(DRAIN_S, self.drain)
        self.set_interval(TICK_S, self._tick)
        if self.proxy is not None:
            self.proxy.observers.append(self.observer)

    def on_unmount(self) -> None:
        if self.proxy is None:
            return
        self.proxy.observers.remove(self.observer)
        if self.owns:
            self.proxy.stop()

    # -- state in ----------------------------------------------------------------------
    def drain(self) -> None:
        """Fold what the proxy handed over into the model, then show it once."""
        got = 0
        model = self.model
        while True:
            try:
                kind, item = self.observer.queue.get_nowait()
            except queue.Empty:
                break
            getattr(model, kind)(item)
            got += 1
        if got:
            self.drained += got
            self.show()

    def _tick(self) -> None:
        self._show_lanes()
        self._show_header()

    # -- state down --------------------------------------------------------------------
    def show(self) -> None:
        self._show_lanes()
        self._show_header()
        self._show_timeline()
        self._show_monitor()

    def _show_timeline(self) -> None:
        table = self.query_one(TimelineTable)
        if table.display:  # else the command monitor is in its place: rows wait in the model
            table.append(self.model.timeline.after(table.shown_seq), self.model.colours())

    def _show_header(self) -> None:
        model = self.model
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"proxy {self.listen} → upstream {self.upstream}", style="bold")
        text.append(" (plain TCP on the local side)", style="bold yellow")
        text.append(f" · showing {self.filter.describe()}", style="dim")
        text.append(f" · {model.connections} client connections")
        if self.collector is not None:
            text.append(" · ● recording", style="bold red")
        if self.hidden:
            plural = "s" if self.hidden != 1 else ""
            text.append(f" · {self.hidden} less recent session{plural} not shown", style="yellow")
        if model.forgotten:
            text.append(f" · {model.forgotten} old sessions forgotten", style="dim")
        if model.cleared:
            text.append(f" · {model.cleared} finished cleared", style="dim")
        self.query_one("#ps-header", Static).update(text)
        notice = self.query_one("#ps-notice", Static)
        notice.display = bool(model.upstream_down)
        if model.upstream_down:
            notice.update(
                Text(
                    f"✗ upstream down: {model.upstream_down} — the application's connections "
                    "are closed, as with a dead server",
                    style="bold",
                )
            )

    def _show_lanes(self) -> None:
        now = self.clock()
        box = self.query_one("#ps-lanes", HorizontalScroll)
        matching = self.model.shown(self.filter)
        shown = matching
        if len(matching) > MAX_LANES:
            recent = sorted(matching, key=lambda s: s.last_at)[-MAX_LANES:]
            shown = [s for s in matching if s in recent]
        self.hidden = len(matching) - len(shown)
        lanes = {lane.session.lsid: lane for lane in box.query(AppLane)}
        wanted = {s.lsid for s in shown}
        for lsid, lane in lanes.items():
            if lsid not in wanted:
                lane.remove()
        # A lane shown again (a filter lifted) goes back to its place, before the next
        # session's lane: the lanes stay in the order the proxy first saw the sessions.
        new: list[AppLane] = []
        following: AppLane | None = None
        for session in reversed(shown):
            lane = lanes.get(session.lsid)
            if lane is None:
                lane = AppLane(session)
                new.append(lane)
                if following is None:
                    box.mount(lane)
                else:
                    box.mount(lane, before=following)
            following = lane
        for lane in [*lanes.values(), *new]:
            if lane.session.lsid in wanted:
                if lane.is_mounted:
                    lane.update_session(now, self.model.idle_s)
                else:
                    lane.call_after_refresh(lane.update_session, now, self.model.idle_s)
        self._size_lanes(len(shown))
        empty = self.query_one("#ps-empty", Static)
        empty.display = not shown
        if not shown and self.model.sessions:
            empty.update(f"No session matches the filter ({self.filter.describe()}).")
        elif not shown:
            empty.update(self._waiting())

    def _size_lanes(self, count: int | None = None) -> None:
        """Each lane an equal share of the width, never under LANE_MIN: with many sessions
        the row scrolls sideways rather than one lane taking the whole width (a `1fr`
        lane in a scrolling row did, hiding the others)."""
        box = self.query_one("#ps-lanes", HorizontalScroll)
        lanes = list(box.query(AppLane))  # those being removed too: they go at once
        count = len(lanes) if count is None else count
        total = box.size.width or self.app.size.width
        if not lanes or not count or not total:
            return
        width = max(LANE_MIN, total // count)
        for lane in lanes:
            if lane.styles.width is None or lane.styles.width.value != width:
                lane.styles.width = width

    def on_resize(self) -> None:
        self._size_lanes()

    def _waiting(self) -> str:
        """What to do while no session has come: the URI the application uses."""
        if self.proxy is None:
            return "No application session yet."
        lines = [
            "No application session yet. Connect the application to the proxy:",
            f"  {self.proxy.app_uri()}",
        ]
        if self.proxy.upstream.set_name:
            lines.append(f"  or, to this member only, {self.proxy.app_uri(direct=True)}")
        return "\n".join(lines)

    def _show_monitor(self, reset: bool = False) -> None:
        pane = self._monitor_pane()
        if pane is None or not pane.display:
            return
        lane, internal = self._monitor_lane, self._monitor_internal

        def keep(record: Any) -> bool:
            return (internal or not record.internal) and (lane is None or record.lane_id == lane)

        pane.lines.show(list(self.model.log.records), keep, self.model.colours(), reset=reset)

    def _monitor_pane(self) -> CommandMonitor | None:
        found = self.query("#monitor")
        return found.first() if found else None  # type: ignore[return-value]

    # -- keys --------------------------------------------------------------------------
    def action_filter_app(self) -> None:
        app_name = _cycle(self.model.app_names(), self.filter.app_name)
        self._refilter(app_name=app_name)

    def action_filter_db(self) -> None:
        database = _cycle(self.model.databases(), self.filter.database)
        self._refilter(database=database)

    def action_txns_only(self) -> None:
        self._refilter(txns_only=not self.filter.txns_only)

    def _refilter(self, **change: Any) -> None:
        from dataclasses import replace

        self.filter = replace(self.filter, **change)
        self._show_header()
        self._show_lanes()

    def _say(self, message: str, **options: Any) -> None:
        self.said = message
        self.notify(message, markup=False, **options)

    def action_clear_finished(self) -> None:
        gone = self.model.clear_finished(self.clock())
        self._say(
            f"{gone} finished sessions cleared" if gone else "no session has ended or gone idle",
            timeout=3,
        )
        self._show_header()
        self._show_lanes()

    async def action_toggle_monitor(self) -> None:
        bottom = self.query_one("#ps-bottom", Vertical)
        if await CommandMonitor.toggle(self, bottom, self.query_one(TimelineTable)):
            self._show_monitor(reset=True)
        else:
            self._show_timeline()  # the rows that came while the monitor was in its place

    def on_monitor_lines_filter(self, event: MonitorLines.Filter) -> None:
        if event.lane:
            ids: list[int | None] = [None, *(int(s.name[1:]) for s in self.model.sessions.values())]
            at = ids.index(self._monitor_lane) if self._monitor_lane in ids else 0
            self._monitor_lane = ids[(at + 1) % len(ids)]
        else:
            self._monitor_internal = not self._monitor_internal
        self._show_monitor(reset=True)

    def on_monitor_lines_selected(self, event: MonitorLines.Selected) -> None:
        from .dialogs import DocumentScreen

        r = event.record
        who = f"session {r.lane}" if r.lane else "no session"
        title = f"{r.name} on {r.database} · {who}"
        if r.attempt > 1:
            title += f" · attempt {r.attempt} (sent again by the driver)"
        if r.sensitive:
            title += " · credentials: its body and reply are not shown"
        took = f" in {r.duration_ms:.1f} ms" if r.duration_ms is not None else ""
        reply: dict[str, Any] = r.reply if r.reply is not None else {"no reply": r.outcome()}
        self.app.push_screen(
            DocumentScreen(r.command, title, compare=reply, compare_title=f"Reply{took}")
        )

    def action_record(self) -> None:
        """Start capturing what passes through the proxy; at stop, save it as a scenario
        and offer to load it into the workbench."""
        if self.proxy is None:
            self._say("No proxy behind this view: nothing to record.", severity="warning")
            return
        from ..backend.proxy.collect import Collector

        if self.collector is None:
            self.collector = Collector()
            self.proxy.observers.append(self.collector)
            self._say("Recording: r again stops and saves the capture as a scenario.")
        else:
            collector, self.collector = self.collector, None
            self.proxy.observers.remove(collector)
            self._ask_setup(collector)
        self._show_header()

    def _ask_setup(self, collector: Any) -> None:
        """Where the scenario's setup comes from: the upstream, read now (finds only), or
        the documents the replies showed. Cancel goes on recording: nothing is lost."""
        from .confirm import ConfirmScreen

        records = collector.records()
        if not self.upstream_uri:
            self.save_capture(records, collector.dropped, fetch=False)
            return

        def chosen(choice: str | None) -> None:
            if choice is None:
                assert self.proxy is not None
                self.collector = collector
                self.proxy.observers.append(collector)
                self._say("Still recording: r stops and saves.")
                self._show_header()
                return
            self.save_capture(records, collector.dropped, fetch=choice == "fetch")

        message = (
            f"{len(records)} commands captured. The scenario starts from a setup: read the "
            f"documents its statements touched from the upstream ({self.upstream}) now, as "
            "they are now (finds only, nothing is written), or take each as a reply first "
            "showed it?"
        )
        self.app.push_screen(
            ConfirmScreen(
                "Save the capture as a scenario",
                message,
                [("fetch", "Read from the upstream"), ("replies", "From the replies")],
            ),
            chosen,
        )

    @work(exclusive=True, group="capture", exit_on_error=False, description="save capture")
    async def save_capture(self, records: list[ProxyRecord], dropped: int, fetch: bool) -> None:
        from ..backend.connection import scrub
        from ..config import data_dir
        from ..scenario.capture import capture_data
        from ..scenario.loader import ScenarioError, parse_scenario
        from ..scenario.save import dump, write_atomic

        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        path = data_dir() / "scenarios" / f"capture-{stamp}.yaml"
        documents = None
        if fetch:
            from ..backend.proxy.fetch import fetch_setup

            try:
                documents, skipped = await asyncio.to_thread(
                    fetch_setup, self.upstream_uri, records
                )
            except Exception as exc:  # pymongo's errors: said without the password
                why = scrub(str(exc), self.upstream_uri)
                self._say(f"Cannot read the setup from the upstream: {why}", severity="error")
                self._ask_setup_again(records, dropped)
                return
            if skipped:
                self._say(f"{skipped} documents plain YAML cannot hold were left out.")
        data = capture_data(records, name=path.stem, setup_documents=documents, now=self.clock())
        if not data["steps"]:
            self._say("Nothing captured: no application statement passed meanwhile.")
            return
        text = dump(data)
        try:
            parse_scenario(text, str(path))
        except ScenarioError as exc:  # should not happen: say so rather than write it
            self._say(f"Cannot save the capture: {exc}", severity="error")
            return
        try:
            await asyncio.to_thread(write_atomic, path, text)
        except OSError as exc:
            self._say(f"Cannot write {path}: {exc.strerror or exc}", severity="error")
            return
        self.saved = path
        lost = f" (the oldest {dropped} commands were dropped)" if dropped else ""
        steps, sessions = len(data["steps"]), len(data["sessions"])
        self._offer_load(path, f"{steps} steps of {sessions} sessions saved in {path}{lost}.")

    def _ask_setup_again(self, records: list[ProxyRecord], dropped: int) -> None:
        """The upstream could not be read: the replies' documents, or nothing saved."""
        from .confirm import ConfirmScreen

        def chosen(choice: str | None) -> None:
            if choice == "replies":
                self.save_capture(records, dropped, fetch=False)

        self.app.push_screen(
            ConfirmScreen(
                "Save the capture with the replies' documents?",
                "The upstream could not be read. Save the capture with each document as a "
                "reply first showed it, or cancel (the capture is not saved)?",
                [("replies", "From the replies")],
            ),
            chosen,
        )

    def _offer_load(self, path: Path, saved: str) -> None:
        from .confirm import ConfirmScreen

        # The workbench screen, found by what it does (importing it here would be a cycle).
        stack = self.app.screen_stack
        bench: Any = next((s for s in stack if hasattr(s, "load_scenario_worker")), None)
        if bench is None or not bench.wb.is_sandbox:
            self._say(
                f"{saved} To step it by hand, connect the workbench to the sandbox (F2), "
                "then l loads the file.",
                timeout=15,
            )
            return
        replaces = (
            " It replaces the workbench's lanes (a draft keeps them)."
            if (bench.wb.has_own_work())
            else ""
        )

        def chosen(choice: str | None) -> None:
            if choice != "load":
                return
            if replaces:
                bench.autosave_draft()
            while self.app.screen is not bench:
                self.app.pop_screen()
            bench.load_scenario_worker(str(path))

        message = (
            f"{saved}\nLoad it into the workbench on the sandbox and step it by hand (n)? "
            f"The proxy keeps running: F2 → Live view comes back here.{replaces}"
        )
        self.app.push_screen(
            ConfirmScreen("Capture saved", message, [("load", "Load into the workbench")]),
            chosen,
        )

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

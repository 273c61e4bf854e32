"""The workbench: lanes side by side, the committed panel and the timeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from ..backend.connection import (
    AUTHENTICATION_FAILED,
    SANDBOX_NAME,
    BadURI,
    login_refused,
    mask_uri,
)
from ..backend.lane_runner import LaneBusy
from ..keys import KEY_ACTIONS, WORKBENCH_KEYS, bindings
from ..model.events import Changed
from ..model.lanes import OpStatus, TxnState, view_docs
from ..model.literals import format_value
from ..widgets.documents import CommittedPanel
from ..widgets.footer import KeyFooter
from ..widgets.lane import LaneWidget, QueueList
from ..widgets.lane_row import LaneRow
from ..widgets.timeline import TimelineTable
from .members import MembersHandlers

if TYPE_CHECKING:
    from ..backend.workbench import Workbench
    from ..model.monitor import CommandRecord
    from ..scenario.definition import Scenario
    from ..widgets.monitor import CommandMonitor, MonitorLines
    from .presenter import Presenter
    from .scenarios import Pick


MONITOR_EVERY_S = 0.1  # the command monitor's refresh, at most this often
# Changes that redraw part of the screen: the command monitor is shown with them.
DRAWN_WITH_MONITOR = frozenset({Changed.LANE, Changed.LANES, Changed.TIMELINE, Changed.COMMITTED})
SHARDS_EVERY_S = 0.5  # a sharded cluster: how often the lanes' participants are read


class WorkbenchScreen(MembersHandlers, Screen[None]):
    class Ready(Message):
        """Connected, first page shown: the workbench is usable (the app handles it)."""

    BINDINGS = bindings(WORKBENCH_KEYS)  # type: ignore[assignment]
    AUTO_FOCUS = "QueueList"  # the first lane's queue: where its keys act

    def __init__(self, wb: Workbench) -> None:
        super().__init__(id="workbench")
        self.wb = wb
        self.active_lane_id: int | None = wb.lanes[0].id if wb.lanes else None
        self._dirty: set[tuple[Changed, int | None]] = set()
        self._flush_scheduled = False
        self.ready = False  # connected and the first page shown
        self._shards_reading = False  # a participants read is under way
        self._resumed = False  # has been the current screen once
        self._painted: Callable[[], None] = lambda: None  # see _announce_when_painted
        self.committed_shown_at: float | None = None  # perf time of the last panel update
        self.started = self._scenario_stamp()  # when this workbench began: its draft's title
        self.draft_path: Path | None = None  # this workbench's draft, once written
        self._draft_version: object = None
        self._draft_lock = asyncio.Lock()  # one draft write at a time; held while loading
        self._draft_due = False  # a change is waiting to be saved
        self._draft_writing = False  # the draft writer is running
        self._monitor_lane: int | None = None  # the command monitor's lane filter
        self._monitor_internal = False  # it lists the workbench's own traffic too
        self._monitor_due = False  # a monitor refresh is scheduled
        self._monitor_stale = False  # commands sent or answered since the monitor was shown
        self.presenter: Presenter | None = None  # presenter mode, made on first use (P)

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self._set_breakpoints()
        yield Static(f"connecting to {self._where()}…", id="deployment", markup=False)
        yield Static("", id="notice", markup=False)
        yield Static("", id="fail-points", markup=False)
        yield Static("", id="scenario-banner")
        # The lanes exist before the connection: composing them with the screen lays the
        # workbench out once, and their keys answer "not connected yet" until it is up.
        with LaneRow() as row:
            row.active_id = self.active_lane_id
            for lane in self.wb.lanes:
                widget = LaneWidget(lane)
                widget.set_class(lane.id == self.active_lane_id, "-active")
                yield widget
        with Horizontal(id="bottom"):
            yield CommittedPanel()
            yield TimelineTable()
        yield KeyFooter()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler. The first time, every widget was styled as it
        # was registered a moment ago (breakpoint classes included): restyling them all
        # again cost ~10 ms of the start. Later resumes (after a dialog) still restyle.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
            # Screen's handler then lays out and paints for the first time; that first
            # layout publishes no layout signal (Textual posts its Ready instead).
            self.call_next(lambda: self._painted())

    def on_resize(self, event: events.Resize) -> None:
        # Runs before Screen's own handler, which lays everything out again. Textual sends
        # the screen Resize events of the size it already has (the terminal's first report
        # arrives after the first layout; a first layout reports the screen's own size):
        # each one was a full layout and paint for nothing.
        if event.size == self.outer_size:
            event.prevent_default()

    def _set_breakpoints(self) -> None:
        """The app's breakpoint classes for the current size, set now: Textual sets them on
        the first Resize, which comes after the first paint, so the whole workbench would
        be restyled, laid out and painted a second time."""
        app, size = self.app, self.app.size
        classes: dict[str, bool] = {}
        for dimension, points in (
            (size.width, app.HORIZONTAL_BREAKPOINTS or []),
            (size.height, app.VERTICAL_BREAKPOINTS or []),
        ):
            reached = max((p for p in points if dimension >= p[0]), default=None)
            classes.update({name: (at, name) == reached for at, name in points})
        self.update_classes(classes, update=False)

    async def on_mount(self) -> None:
        self.query_one("#notice").display = False
        self.query_one("#fail-points").display = False
        self.query_one("#scenario-banner").display = False
        self.wb.notify = self._on_backend
        self.set_interval(0.2, self._tick)
        self.set_interval(SHARDS_EVERY_S, self._follow_shards)  # sharded: lanes' participants
        if getattr(self.app, "present", False):  # --present
            self.action_toggle_presenter()
        if self.wb.is_sandbox and self.wb.client is None:
            await self._start_sandbox()
        if self.wb.client is None:  # a real server may take seconds: show "connecting…"
            self.connect_worker()
            return
        self._dirty |= {
            (Changed.CONNECTION, None),
            (Changed.TIMELINE, None),
            (Changed.COMMITTED, None),
        }
        await self._flush()
        self._connected()

    async def _start_sandbox(self) -> None:
        """Start and connect to the sandbox and read the first page before the first paint.

        It takes ~0.1 s of CPU; this screen's first layout waits for this handler, so the
        workbench is laid out and painted once, connected, instead of "connecting…" first.
        A failure is left to connect_worker, which tries again and shows what failed.
        """
        try:
            await self.wb.connect()
            await self.wb.refresh_committed(0, count_now=True)
        except Exception:
            try:
                await self.wb.close()
            except Exception:
                pass

    # -- backend → UI ----------------------------------------------------------------------
    def _on_backend(self, kind: Changed, lane_id: int | None) -> None:
        self._dirty.add((kind, lane_id))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.call_later(self._flush)

    async def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        kinds = {k for k, _ in dirty}
        if Changed.CONNECTION in kinds:
            self._show_deployment()
        if Changed.LANES in kinds or Changed.CONNECTION in kinds:
            await self._sync_lanes()
        if Changed.COMMITTED in kinds:
            self._show_committed()
        if Changed.TIMELINE in kinds:
            self._show_timeline()
        if Changed.MONITOR in kinds:
            self._monitor_stale = True
        if self._monitor_stale and kinds & DRAWN_WITH_MONITOR:
            # The lanes or the timeline are drawn now: the monitor joins that screen
            # update. On a timer of its own it added one to the keypress → timeline row
            # path (tui_bench: keypresses with a screen update inside took 2-3x longer,
            # and the monitor open gave more of them).
            self._show_monitor()
        elif self._monitor_stale and not self._monitor_due:
            # Traffic alone (the panels' reads, monitoring): at most every MONITOR_EVERY_S.
            self._monitor_due = True
            self.set_timer(MONITOR_EVERY_S, self._show_monitor_due)
        if Changed.FAULTS in kinds or Changed.CONNECTION in kinds:
            self._show_fail_points()
        if Changed.MEMBERS in kinds:
            self._show_members()
        if Changed.SCENARIO in kinds or Changed.LANES in kinds:
            self._show_scenario()
        lanes = {lane_id for k, lane_id in dirty if k is Changed.LANE and lane_id is not None}
        if Changed.COMMITTED in kinds or Changed.SCENARIO in kinds:
            lanes |= {lane.id for lane in self.wb.lanes}
        for lane_id in lanes:
            self._show_lane(lane_id)
        if kinds & {"lane", "lanes"}:
            self.autosave_draft()
        if self.presenter is not None:
            self.presenter.flushed(kinds)

    def _show_deployment(self) -> None:
        d = self.wb.deployment
        header = self.query_one("#deployment", Static)
        notice = self.query_one("#notice", Static)
        if d is None:
            header.update("not connected")
            return
        header.update(d.describe())
        if not d.transactions_supported:
            notice.update(
                "This server is standalone: transactions need a replica set or a sharded "
                "cluster. Non-transactional operations still work; press F2 and choose "
                "Sandbox to try transactions."
            )
            notice.display = True
        else:
            notice.display = False

    async def _sync_lanes(self) -> None:
        box = self.query_one(LaneRow)
        have = {w.lane.id: w for w in box.query(LaneWidget)}
        want = [lane.id for lane in self.wb.lanes]
        for lane_id, widget in have.items():
            if lane_id not in want:
                await widget.remove()
        new = [LaneWidget(lane) for lane in self.wb.lanes if lane.id not in have]
        if new:
            await box.mount_all(new)
        if self.active_lane_id not in want and want:
            self.active_lane_id = want[0]
        box.place_lanes(self.active_lane_id)
        for lane in self.wb.lanes:
            self._show_lane(lane.id)

    def _lane_widget(self, lane_id: int) -> LaneWidget | None:
        """The lane's widget once it is composed (lanes mount while a scenario loads)."""
        try:
            widget = self.query_one(f"#lane-{lane_id}", LaneWidget)
        except Exception:
            return None
        return widget if widget.query(QueueList) else None

    def _show_lane(self, lane_id: int, full: bool = True) -> None:
        widget = self._lane_widget(lane_id)
        if widget is None:
            return
        widget.set_class(lane_id == self.active_lane_id, "-active")
        play = self.wb.play
        step = play.next_step if play is not None else None
        widget.next_step = step.index if step is not None else None
        lifetime = self.wb.lifetime_limit_s
        widget.update_lane(self.wb.clock(), lifetime, self.wb.page.docs, full=full)

    def _show_committed(self) -> None:
        panel = self.query_one(CommittedPanel)
        where = f" on {self.wb.view_member}" if self.wb.view_member else ""  # V: a member's own
        panel.show(f"{self.wb.db}.{self.wb.collection}{where}", self.wb.page, self.wb.watch_mode)
        self.committed_shown_at = self.wb.perf()

    # -- the command monitor ------------------------------------------------------------------
    # Mounted on first use and imported then (the workbench starts without it); its
    # messages reach the handlers below by name.
    def _monitor_pane(self) -> CommandMonitor | None:
        found = self.query("#monitor")
        return found.first() if found else None  # type: ignore[return-value]

    async def action_toggle_monitor(self) -> None:
        """Show the command monitor in the timeline's place, or the timeline again."""
        from ..widgets.monitor import CommandMonitor

        bottom = self.query_one("#bottom", Horizontal)
        if await CommandMonitor.toggle(self, bottom, self.query_one(TimelineTable)):
            self._show_monitor(reset=True)
        else:
            self._show_timeline()  # the rows that came while the monitor was in its place

    def _show_monitor_due(self) -> None:
        self._monitor_due = False
        if self._monitor_stale:
            self._show_monitor()

    def _show_monitor(self, reset: bool = False) -> None:
        self._monitor_stale = False
        pane = self._monitor_pane()
        monitor = self.wb.monitor
        if pane is None or not pane.display or monitor is None:
            return
        lane, internal = self._monitor_lane, self._monitor_internal

        def keep(record: CommandRecord) -> bool:
            return (internal or not record.internal) and (lane is None or record.lane_id == lane)

        colours = {ln.name: ln.colour for ln in self.wb.lanes}
        pane.lines.show(monitor.log.records, keep, colours, reset=reset)
        names = {ln.id: ln.name for ln in self.wb.lanes}
        where = f"lane {names.get(lane, '?')}" if lane is not None else "all lanes"
        own = "with" if internal else "without"
        # What this filter lists: the log's total would count the panels' background
        # reads too, which come and go with timing (a flaky snapshot showed 20 or 21).
        listed = len(pane.lines.records)
        subtitle = f"{where} · {own} the workbench's own · {listed:,} listed · f lane  i own"
        if pane.border_subtitle != subtitle:
            pane.border_subtitle = subtitle

    def on_monitor_lines_filter(self, event: MonitorLines.Filter) -> None:
        if event.lane:
            ids: list[int | None] = [None, *(lane.id for lane in self.wb.lanes)]
            at = ids.index(self._monitor_lane) if self._monitor_lane in ids else 0
            self._monitor_lane = ids[(at + 1) % len(ids)]
        else:
            self._monitor_internal = not self._monitor_internal
        self._show_monitor(reset=True)

    def on_monitor_lines_selected(self, event: MonitorLines.Selected) -> None:
        from .dialogs import DocumentScreen

        r = event.record
        who = f"lane {r.lane}" + (f" · {r.step}" if r.step else "") if r.lane else "the workbench"
        title = f"{r.name} on {r.database} · {who}"
        if r.attempt > 1:
            title += f" · attempt {r.attempt} (sent again by the driver)"
        if r.sensitive:
            title += " · its body and reply are redacted by the driver (credentials)"
        took = f" in {r.duration_ms:.1f} ms" if r.duration_ms is not None else ""
        reply: dict[str, Any] = r.reply if r.reply is not None else {"no reply": r.outcome()}
        self.app.push_screen(
            DocumentScreen(r.command, title, compare=reply, compare_title=f"Reply{took}")
        )

    # -- fault injection (screens/faults.py; backend/faults.py) ------------------------------
    def _show_fail_points(self) -> None:
        """The fail point the workbench set, on a line of its own until it fired its times
        or is turned off."""
        line = self.query_one("#fail-points", Static)
        injector = self.wb.__dict__.get("faults")  # made on first use
        active = injector.active if injector is not None else None
        line.display = active is not None
        if active is not None:
            line.update(f"⚡ fail point: {active.status()} · F turns it off")

    def action_inject_fault(self) -> None:
        from ..backend.operations import error_info
        from .faults import FaultInjectionScreen

        if self._lane_id() is None:
            return
        faults = self.wb.faults

        async def setter(spec: Any, title: str) -> tuple[str, str]:
            try:
                out = await faults.set(spec, title)
            except Exception as exc:  # shown in the dialog, never a traceback
                return error_info(exc, self.wb.scrub).one_line(), ""
            error = out.error.one_line() if out.error is not None else ""
            return error, faults.refused_here

        async def off() -> str:
            try:
                out = await faults.turn_off()
            except Exception as exc:
                return error_info(exc, self.wb.scrub).one_line()
            return out.error.one_line() if out is not None and out.error is not None else ""

        screen = FaultInjectionScreen(faults.active, faults.refused_here, setter, off)
        self.app.push_screen(screen)

    def action_toggle_presenter(self) -> None:
        """Presenter mode on or off (screens/presenter.py, imported on first use)."""
        if self.presenter is None:
            from .presenter import Presenter

            self.presenter = Presenter(self, self.wb)
        self.presenter.toggle()

    def action_server_view(self) -> None:
        """The server view (imported on first use: the workbench starts without it)."""
        from .server_view import ServerViewScreen

        if self.wb.client is None:
            self.notify("Not connected yet", severity="warning")
            return
        self.app.push_screen(ServerViewScreen(self.wb))

    def _show_timeline(self) -> None:
        table = self.query_one(TimelineTable)
        if not table.display:
            # The command monitor is in its place: the rows wait in the model until it is
            # shown again. Added hidden, each resized the table and re-laid out the screen
            # inside the keypress that caused it (tui_bench).
            return
        colours = {lane.name: lane.colour for lane in self.wb.lanes}
        table.append(self.wb.timeline.after(table.shown_seq), colours)

    def _follow_shards(self) -> None:
        """A sharded cluster: read the lanes' participants unless a read is under way."""
        deployment = self.wb.deployment
        if deployment is None or not deployment.shards or self._shards_reading:
            return
        self._shards_reading = True
        self._shards_worker()

    @work(group="shards", exit_on_error=False, description="participants")
    async def _shards_worker(self) -> None:
        from ..backend.sharding import follow_participants

        try:
            for lane_id in await follow_participants(self.wb):
                self._show_lane(lane_id)
        finally:
            self._shards_reading = False

    def _tick(self) -> None:
        for lane in self.wb.lanes:
            if lane.busy or lane.txn_state is TxnState.IN_PROGRESS:
                self._show_lane(lane.id, full=False)

    # -- connection ----------------------------------------------------------------------
    @work(exclusive=True, group="connect", exit_on_error=False, description="connect")
    async def connect_worker(self, switch_to: str | bool | None = False) -> None:
        from ..backend.operations import error_info

        try:
            if switch_to is False:
                await self.wb.connect()
            else:
                await self.wb.switch(switch_to or None)  # type: ignore[arg-type]
        except BadURI as exc:
            if self.wb.client is not None:
                self.notify(f"Bad URI: {exc}", severity="error", markup=False)
            else:
                self._fault("Bad URI", str(exc))
            return
        except Exception as exc:
            info = error_info(exc, self.wb.scrub)
            if info.code == AUTHENTICATION_FAILED:
                self._login_refused(switch_to)
                return
            if self.wb.client is not None:  # the switch changed nothing: say so, stay
                here = self.wb.deployment.uri_masked if self.wb.deployment else "it"
                self.notify(
                    f"Cannot reach the server: {info.headline}: {info.message}\n"
                    f"Still connected to {here}.",
                    severity="error",
                    markup=False,
                    timeout=15,
                )
            else:
                self._fault("Cannot reach the server", f"{info.headline}\n\n{info.message}")
            return
        await self.wb.refresh_committed(0)
        await self._flush()
        self._connected()

    def _login_refused(self, switch_to: str | bool | None) -> None:
        """18 AuthenticationFailed: the server was reached and refused the login; one
        sentence naming the user, never the password."""
        tried = switch_to if isinstance(switch_to, str) else (self.wb.requested_uri or "")
        sentence = login_refused(tried)
        if self.wb.client is not None:
            here = self.wb.deployment.uri_masked if self.wb.deployment else "it"
            self.notify(
                f"{sentence}\nStill connected to {here}.",
                severity="error",
                markup=False,
                timeout=15,
            )
        else:
            self._fault("Login refused", sentence)

    def _connected(self) -> None:
        self.ready = True
        self._announce_when_painted()
        self.watch_worker()
        if self.wb.lanes:
            self._focus_lane(self.wb.lanes[0].id)

    def _announce_when_painted(self) -> None:
        """Post Ready once the connected workbench is on screen: at its next layout
        and paint (the layout signal, or right after the first resume's), or after the next
        refresh when nothing needed laying out."""
        signal, sent = self.screen_layout_refresh_signal, False

        def painted(_: object = None) -> None:
            nonlocal sent
            signal.unsubscribe(self.app)
            self._painted = lambda: None
            if not sent:
                sent = True
                self.app.post_message(self.Ready())

        self._painted = painted
        signal.subscribe(self.app, painted, immediate=True)
        self.call_after_refresh(painted)

    def _fault(self, title: str, message: str) -> None:
        from .dialogs import FaultScreen

        def chosen(choice: str | None) -> None:
            if choice == "retry":
                self.connect_worker(self.wb.requested_uri if self.wb.client is None else False)
            elif choice == "sandbox":
                self.connect_worker(None)
            else:
                self.app.exit()

        uri = mask_uri(self.wb.requested_uri or self.wb.uri or "(sandbox)")
        self.app.push_screen(FaultScreen(title, message, uri), chosen)

    @work(exclusive=True, group="watch", exit_on_error=False, description="watch committed")
    async def watch_worker(self, switch_to: tuple[str, str] | None = None) -> None:
        """Watch the collection; with `switch_to`, switch to that one first (exclusive:
        starting it cancels the watcher before)."""
        if switch_to is not None:
            try:
                await self.wb.watch_collection(*switch_to)
                return
            except ValueError as exc:
                self.notify(str(exc), severity="error", markup=False)
        await self.wb.watch()

    # -- lanes -----------------------------------------------------------------------------
    def _focus_lane(self, lane_id: int) -> None:
        old = self.active_lane_id
        self.active_lane_id = lane_id
        self.query_one(LaneRow).place_lanes(lane_id)  # the focused lane is never compact
        widget = self._lane_widget(lane_id)
        if widget is not None:
            widget.queue.focus()
        for i in {old, lane_id}:
            if i is not None:
                self._show_lane(i, full=False)

    def on_descendant_focus(self, event: Any) -> None:
        node = event.widget
        while node is not None and not isinstance(node, LaneWidget):
            node = node.parent
        if isinstance(node, LaneWidget) and node.lane.id != self.active_lane_id:
            old = self.active_lane_id
            self.active_lane_id = node.lane.id
            self.query_one(LaneRow).place_lanes(node.lane.id)
            for i in {old, node.lane.id}:
                if i is not None:
                    self._show_lane(i, full=False)

    def _lane_id(self) -> int | None:
        if self.active_lane_id is None and self.wb.lanes:
            self.active_lane_id = self.wb.lanes[0].id
        if not self.wb.client:
            self.notify("Not connected yet", severity="warning")
            return None
        return self.active_lane_id

    def _run(self, lane_id: int, what: str, make: Callable[[], Awaitable[Any]]) -> None:
        async def guarded() -> None:
            try:
                await make()
            except LaneBusy as exc:
                self.notify(str(exc), severity="warning", markup=False)
            except Exception as exc:  # shown, never a traceback
                from ..backend.operations import error_info

                info = error_info(exc, self.wb.scrub)
                self.notify(f"{info.headline}: {info.message}", severity="error", markup=False)
            self._on_backend(Changed.LANE, lane_id)

        self.run_worker(
            guarded(), group=f"lane-{lane_id}-{what}", exit_on_error=False, description=what
        )

    @on(LaneWidget.Action)
    async def _lane_action(self, event: LaneWidget.Action) -> None:
        """A toolbar label (a key's id: the key table says what it does) or a queue key on
        the highlighted item (the workbench changes the queue, or says why not)."""
        self.active_lane_id = event.lane_id
        if event.index is None:
            await self.run_action(KEY_ACTIONS[event.action])
            return
        lane_id, index = event.lane_id, event.index
        try:
            if event.action == "edit":
                from .editor import EditorScreen

                spec = self.wb.check_edit(lane_id, index)

                def edited(new: Any) -> None:
                    if new is not None:
                        self._queue_change(lambda: self.wb.edit_op(lane_id, index, new))

                lane = self.wb.lane(lane_id)
                self.app.push_screen(EditorScreen(lane.name, spec), edited)
            elif event.action == "duplicate":
                self.wb.duplicate_op(lane_id, index)
            elif event.action == "delete":
                self.wb.delete_op(lane_id, index)
            elif event.action == "move":
                moved = self.wb.move_op(lane_id, index, event.delta)
                widget = self._lane_widget(lane_id)
                if moved is not None and widget is not None:
                    self.call_after_refresh(setattr, widget.queue, "highlighted", moved)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)

    def _queue_change(self, change: Callable[[], object]) -> None:
        try:
            change()
        except ValueError as exc:  # it changed meanwhile (it started running)
            self.notify(str(exc), severity="warning", markup=False)

    # -- actions (keys, buttons, palette) --------------------------------------------------
    def action_add_op(self) -> None:
        from .editor import EditorScreen

        lane_id = self._lane_id()
        if lane_id is None:
            return
        lane = self.wb.lane(lane_id)

        def queued(spec: Any) -> None:
            if spec is not None:
                self.wb.enqueue(lane_id, spec)

        specs = [item.spec for item in lane.queue if item.spec is not None]
        last = specs[-1].copy() if specs else None
        title = f"New operation in lane {lane.name}"
        editor = EditorScreen(lane.name, last, title=title, collection=self.wb.collection)
        self.app.push_screen(editor, queued)

    def _nothing_pending(self) -> None:
        hint = "; n runs the scenario's next step" if self.wb.play is not None else ""
        self.notify(f"Nothing pending in this lane: add an operation (a){hint}", severity="warning")

    def _on_lane(
        self, what: str, make: Callable[[int], Awaitable[Any]], pending: bool = False
    ) -> None:
        """Run `make(lane id)` on the current lane in a worker, when connected (and, with
        `pending`, when the lane has an operation queued)."""
        lane_id = self._lane_id()
        if lane_id is None:
            return
        if pending and self.wb.lane(lane_id).next_pending is None:
            self._nothing_pending()
            return
        self._run(lane_id, what, lambda: make(lane_id))

    def action_step(self) -> None:
        self._on_lane("step", self.wb.step, pending=True)

    def action_run_outside(self) -> None:
        self._on_lane("outside", lambda lane_id: self.wb.step(lane_id, outside=True), True)

    def action_run_rest(self) -> None:
        self._on_lane("run-rest", self.wb.run_rest)

    def action_start_txn(self) -> None:
        self._on_lane("start", self.wb.start_transaction)

    def action_start_txn_options(self) -> None:
        from .dialogs import TxnOptionsScreen

        lane_id = self._lane_id()
        if lane_id is None:
            return
        lane = self.wb.lane(lane_id)

        def chosen(options: Any) -> None:
            if options is not None:
                self._run(lane_id, "start", lambda: self.wb.start_transaction(lane_id, options))

        self.app.push_screen(TxnOptionsScreen(lane.name, lane.txn_options), chosen)

    def action_lane_options(self) -> None:
        from .lane_options import LaneOptionsScreen

        lane_id = self._lane_id()
        if lane_id is None:
            return
        lane = self.wb.lane(lane_id)

        def chosen(choice: Any) -> None:
            if choice is not None:
                self._run(lane_id, "options", lambda: self._set_lane_options(lane_id, *choice))

        self.app.push_screen(LaneOptionsScreen(lane.name, lane.options, lane.txn_options), chosen)

    async def _set_lane_options(self, lane_id: int, options: Any, txn: Any) -> None:
        try:
            await self.wb.set_lane_options(lane_id, options, txn)
        except (KeyError, ValueError) as exc:  # the lane went, or its transaction is open
            self.notify(f"Options not changed: {exc}", severity="warning", markup=False)

    def action_commit(self) -> None:
        self._on_lane("commit", self.wb.commit)

    def action_abort(self) -> None:
        self._on_lane("abort", self.wb.abort)

    def action_end_session(self) -> None:
        self._on_lane("end", self.wb.end_session)

    def action_add_lane(self) -> None:
        lane = self.wb.add_lane()
        if lane is None:
            self.notify("That is the most lanes the workbench holds", severity="warning")
            return
        self.call_after_refresh(self._focus_lane, lane.id)

    def action_remove_lane(self) -> None:
        lane_id = self._lane_id()
        if lane_id is None:
            return
        if len(self.wb.lanes) <= 1:
            self.notify("The last lane stays", severity="warning")
            return
        lane = self.wb.lane(lane_id)
        pending = sum(item.status is OpStatus.PENDING for item in lane.queue)
        lost = []
        if lane.txn_live:  # ending a session aborts its open transaction
            lost.append(f"its open transaction (txn {lane.txn_number}) is aborted")
        if pending:
            lost.append(f"{pending} queued operation{'s are' if pending != 1 else ' is'} dropped")
        if not lost:
            self._run(lane_id, "remove", lambda: self.wb.remove_lane(lane_id))
            return
        from .confirm import ConfirmScreen

        def chosen(choice: str | None) -> None:
            if choice == "remove" and any(other.id == lane_id for other in self.wb.lanes):
                self._run(lane_id, "remove", lambda: self.wb.remove_lane(lane_id))

        message = f"Removing lane {lane.name} ends its session: " + "; ".join(lost) + "."
        self.app.push_screen(
            ConfirmScreen(f"Remove lane {lane.name}?", message, [("remove", "Remove lane")]),
            chosen,
        )

    def action_rename_lane(self) -> None:
        from .rename import RenameLaneScreen

        lane_id = self._lane_id()
        if lane_id is None:
            return
        lane = self.wb.lane(lane_id)
        others = [other.name for other in self.wb.lanes if other.id != lane_id]
        locked = "named by the loaded scenario: only the colour can change" if self.wb.play else ""

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            try:
                self.wb.rename_lane(lane_id, *choice)
            except (KeyError, ValueError) as exc:  # the lane went, or a check the dialog missed
                self.notify(f"Not renamed: {exc}", severity="error", markup=False)

        self.app.push_screen(RenameLaneScreen(lane.name, lane.colour, others, locked), chosen)

    def action_view_docs(self) -> None:
        from ..widgets.render import no_view_reason
        from .viewdocs import LaneDocsScreen

        lane_id = self._lane_id()
        if lane_id is None:
            return
        lane = self.wb.lane(lane_id)
        ns = f"{self.wb.db}.{self.wb.collection}"
        if lane.view is None:
            reason = no_view_reason(lane, lane.view_note)
            self.notify(f"Lane {lane.name} has no view of its own: {reason}", markup=False)
            return
        docs = view_docs(self.wb.page.docs, lane.view, lane.view_base)
        if not docs:
            self.notify(f"Lane {lane.name}'s transaction reads no documents in {ns}", markup=False)
            return
        self.app.push_screen(LaneDocsScreen(lane.name, ns, docs))

    @on(LaneWidget.Picked)
    def _lane_picked(self, event: LaneWidget.Picked) -> None:
        self._focus_lane(event.lane_id)

    def action_maximise_lane(self) -> None:
        """The current lane alone across the width, or every lane again."""
        row = self.query_one(LaneRow)
        row.place_lanes(self.active_lane_id, maximised=not row.maximised)

    def _move_lane(self, delta: int) -> None:
        ids = [lane.id for lane in self.wb.lanes]
        if not ids:
            return
        i = ids.index(self.active_lane_id) if self.active_lane_id in ids else 0
        self._focus_lane(ids[(i + delta) % len(ids)])

    def action_next_lane(self) -> None:
        self._move_lane(1)

    def action_prev_lane(self) -> None:
        self._move_lane(-1)

    def action_next_page(self) -> None:
        self._page(1)

    def action_prev_page(self) -> None:
        self._page(-1)

    def _page(self, delta: int) -> None:
        if self.wb.client is None:
            return

        async def go() -> None:
            await self.wb.refresh_committed(self.wb.page.number + delta)
            for lane in self.wb.lanes:
                if lane.txn_state is TxnState.IN_PROGRESS:
                    await self.wb.refresh_view(lane.id)

        self.run_worker(go(), group="page", exclusive=True, exit_on_error=False)

    def action_refresh(self) -> None:
        self._page(0)

    def action_watch_collection(self) -> None:
        from .watch import WatchScreen

        if self.wb.client is None:
            self.notify("Not connected yet", severity="warning")
            return
        fixed_db = self.wb.db if self.wb.play is not None else ""

        def chosen(ns: tuple[str, str] | None) -> None:
            if ns is not None and ns != (self.wb.db, self.wb.collection):
                self.watch_worker(ns)

        screen = WatchScreen(self.wb.db, self.wb.collection, self.wb.list_namespaces, fixed_db)
        self.app.push_screen(screen, chosen)

    def action_connect(self) -> None:
        from .dialogs import SANDBOX_3, ConnectScreen

        current = self.wb.deployment.uri_masked if self.wb.deployment else "not connected"

        def chosen(uri: str | None) -> None:
            if uri is None:
                return
            if uri == SANDBOX_3:  # the sandbox again, with three members (issue 13)
                self.wb.sandbox_members, uri = 3, ""
            open_txns = self.wb.open_transactions()
            if not open_txns:
                self.connect_worker(uri or None)
                return
            from .confirm import ConfirmScreen, open_transactions_text

            who = open_transactions_text([lane.name for lane in open_txns])
            message = (
                f"{who}. Switching ends the lanes' sessions, which aborts their "
                "transactions; the lanes and their queues move to the new deployment."
            )

            def confirmed(choice: str | None) -> None:
                if choice == "switch":
                    self.connect_worker(uri or None)

            self.app.push_screen(
                ConfirmScreen("Switch deployment?", message, [("switch", "Switch")]), confirmed
            )

        served = getattr(self.app, "served", None)
        self.app.push_screen(ConnectScreen(current, served=served), chosen)

    # -- scenarios ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_step" and self.wb.play is None:
            return False  # hidden from the footer until a scenario is loaded
        return True

    def _show_scenario(self) -> None:
        banner = self.query_one("#scenario-banner", Static)
        play = self.wb.play
        if banner.display != (play is not None):
            banner.display = play is not None
            # Only then does `check_action` change its answer; refreshing the bindings on
            # every flush would make the footer work out its keys again for nothing.
            self.refresh_bindings()
        if play is None:
            return
        sc = play.scenario
        text = Text(no_wrap=False, overflow="ellipsis")
        text.append("Scenario ", style="dim")
        text.append(sc.title, style="bold")
        text.append(f" ({sc.name})", style="dim")
        banner.set_class(play.finished and play.passed, "-passed")
        banner.set_class(play.finished and not play.passed, "-failed")
        if play.finished:
            mark = "✓" if play.passed else "✗"
            text.append(
                f"  {mark} {play.summary()}", style="bold green" if play.passed else "bold red"
            )
            text.append("\nVerdict: ", style="bold")
            text.append(sc.verdict)
        else:
            step = play.next_step
            text.append(f" · {play.summary()}", style="dim")
            if step is not None:
                who = f"{step.session}: " if step.session else ""
                text.append("\nnext ", style="dim")
                text.append(f"{step.index}. {who}{step.label()}", style="bold")
                text.append(f" → expect {step.expect.describe()}", style="dim")
                text.append("  (n)", style="dim")
            elif len(play.checks) < play.total:
                text.append("\nwaiting for the last steps to finish…", style="dim")
            if sc.teaches:
                text.append("\nTeaches: ", style="dim")
                text.append(" · ".join(sc.teaches))
        banner.update(text)

    def _where(self) -> str:
        """The deployment as the user should read it: "sandbox (in this process)" or the
        masked URI."""
        if self.wb.is_sandbox:
            return SANDBOX_NAME
        d = self.wb.deployment
        return d.uri_masked if d is not None else mask_uri(self.wb.requested_uri or "")

    def action_load_scenario(self) -> None:
        from ..config import drafts_dir
        from .scenarios import ScenarioPickerScreen

        def chosen(pick: Pick | None) -> None:
            if pick is not None and self.wb.has_own_work():
                self._confirm_replace(pick)
            elif pick is not None:
                self.load_scenario_worker(pick.target, pick.in_place)

        picker = ScenarioPickerScreen(
            drafts_dir(),
            self._where(),
            own=self.wb.owns_deployment,
            served=getattr(self.app, "served", None),
        )
        self.app.push_screen(picker, chosen)

    def _confirm_replace(self, pick: Pick) -> None:
        """Loading replaces the lanes: say what they hold and where it stays."""
        from .confirm import ConfirmScreen

        ran = len(self.wb.journal.entries)
        queued = sum(
            item.spec is not None and item.step is None and item.status is OpStatus.PENDING
            for lane in self.wb.lanes
            for item in lane.queue
        )
        kept = (
            f"The draft {self.draft_path} keeps them: l lists it under Drafts."
            if self.draft_path is not None
            else "They are being saved as a draft: l lists it under Drafts."
        )
        message = (
            f"Loading {Path(pick.target).name} replaces the lanes: {ran} step"
            f"{'s' if ran != 1 else ''} run and {queued} operation{'s' if queued != 1 else ''} "
            f"queued by hand. {kept}"
        )

        def chosen(choice: str | None) -> None:
            if choice == "load":
                self.load_scenario_worker(pick.target, pick.in_place)

        self.autosave_draft()
        self.app.push_screen(
            ConfirmScreen("Replace the workbench?", message, [("load", "Load scenario")]), chosen
        )

    @work(exclusive=True, group="scenario-load", exit_on_error=False, description="load scenario")
    async def load_scenario_worker(self, target: str, in_place: bool = False) -> None:
        from ..backend.operations import error_info
        from ..backend.setup import DropRefused, SetupNotReplicated
        from ..scenario.loader import ScenarioError, load_scenario
        from .scenarios import ConfirmDropScreen

        if self.wb.client is None:
            self.notify("Not connected yet", severity="warning")
            return
        try:
            scenario = await asyncio.to_thread(load_scenario, target)
        except FileNotFoundError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        except ScenarioError as exc:
            self.notify(f"Malformed scenario:\n{exc}", severity="error", markup=False, timeout=15)
            return
        from ..backend.sharding import sharded_refusal

        if refusal := sharded_refusal(self.wb, scenario):
            self.notify(refusal, severity="error", markup=False, timeout=15)
            return
        # Where it runs, and what its setup would destroy there (nothing on our sandbox).
        try:
            scenario, occupied = await self.wb.plan_scenario(scenario, in_place)
        except ValueError as exc:
            self.notify(f"Not loaded: {exc}", severity="error", markup=False)
            return
        except Exception as exc:
            info = error_info(exc, self.wb.scrub)
            self.notify(f"Not loaded: {info.headline}: {info.message}", severity="error")
            return
        allow_drop: set[str] = set()
        if occupied:
            confirm = ConfirmDropScreen(scenario, self._where(), occupied)
            if not await self.app.push_screen_wait(confirm):
                kept = ", ".join(o.namespace for o in occupied)
                self.notify(f"Not loaded; nothing was dropped ({kept} kept)", markup=False)
                return
            allow_drop = {o.namespace for o in occupied}
        self.workers.cancel_group(self, "scenario-steps")
        # the setup drops the collections: stop watching first, watch again once it is done
        self.workers.cancel_group(self, "watch")
        try:
            await self._replace_workbench(scenario, allow_drop)
        except DropRefused as exc:  # it filled up after the question: never drop unasked
            held = "; ".join(o.describe() for o in exc.occupied)
            self.notify(
                f"Not loaded; nothing was dropped. Holds data now: {held}. Load again to be "
                "asked about it.",
                severity="error",
                markup=False,
                timeout=15,
            )
            self.watch_worker()
            return
        except LaneBusy as exc:
            self.notify(str(exc), severity="warning", markup=False)
            self.watch_worker()
            return
        except SetupNotReplicated as exc:
            self.notify(f"Setup failed: {exc}", severity="error", markup=False, timeout=20)
            self.watch_worker()
            return
        except Exception as exc:
            info = error_info(exc, self.wb.scrub)
            self.notify(f"Setup failed: {info.headline}: {info.message}", severity="error")
            self.watch_worker()
            return
        await self._flush()
        self.watch_worker()  # the scenario's collection, whose first page load showed
        if self.wb.lanes:
            self._focus_lane(self.wb.lanes[0].id)
        self.notify(f"Loaded {scenario.title}: press n to run each step", markup=False)

    def action_next_step(self) -> None:
        play = self.wb.play
        if play is None:
            self.notify("Load a scenario first (l)", severity="warning")
            return
        if play.finished:
            self.notify(f"The scenario is over: {play.summary()}", markup=False)
            return
        problem = play.moved_problem()
        if problem is not None:
            self.notify(problem, severity="warning", markup=False, timeout=10)
            return
        step = play.take_next()
        if step is None:
            self.notify("Every step has started; waiting for the last ones to finish")
            return
        lane_id = play.lane_ids.get(step.session or "")
        if lane_id is not None:
            if lane_id != self.active_lane_id:
                self._focus_lane(lane_id)
            widget = self._lane_widget(lane_id)
            item = play.items.get(step.index)
            queue = self.wb.lane(lane_id).queue
            at = next((i for i, x in enumerate(queue) if x is item), None)
            if widget is not None and at is not None:
                widget.queue.highlighted = at  # the step that runs now

        async def run() -> None:
            try:
                await play.run(step)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                from ..backend.operations import error_info

                info = error_info(exc, self.wb.scrub)
                self.notify(f"Step {step.index}: {info.headline}: {info.message}", severity="error")
            self._on_backend(Changed.SCENARIO, None)
            if play.finished and play is self.wb.play:
                mark = "✓" if play.passed else "✗"
                self.notify(
                    f"{mark} {play.summary()}\n{play.scenario.verdict}",
                    title="Scenario finished",
                    severity="information" if play.passed else "warning",
                    markup=False,
                    timeout=10,
                )

        self._on_backend(Changed.SCENARIO, None)
        self.run_worker(
            run(), group="scenario-steps", exit_on_error=False, description=f"step {step.index}"
        )

    def _scenario_stamp(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S", time.localtime(self.wb.clock()))

    def action_save_scenario(self) -> None:
        from ..config import data_dir
        from .scenarios import SaveScenarioScreen

        if not self.wb.has_steps():
            self.notify("Nothing ran yet: run some steps, then save them", severity="warning")
            return
        name = self.wb.play.scenario.name if self.wb.play is not None else "workbench"
        default = data_dir() / "scenarios" / f"{name}-{self._scenario_stamp()}.yaml"

        def chosen(path: str | None) -> None:
            if path:
                self.save_scenario_worker(Path(path).expanduser())

        screen = SaveScenarioScreen(
            default, len(self.wb.journal), getattr(self.app, "served", None)
        )
        self.app.push_screen(screen, chosen)

    @work(exclusive=True, group="scenario-save", exit_on_error=False, description="save scenario")
    async def save_scenario_worker(self, path: Path) -> None:
        from ..scenario.loader import ScenarioError, parse_scenario
        from ..scenario.save import workbench_yaml, write_atomic

        text = workbench_yaml(self.wb)
        try:
            parse_scenario(text, str(path))
        except ScenarioError as exc:  # should not happen: report it rather than write it
            self.notify(f"Cannot save: {exc}", severity="error", markup=False)
            return
        try:
            await asyncio.to_thread(write_atomic, path, text)
        except OSError as exc:
            self.notify(f"Cannot write {path}: {exc.strerror}", severity="error", markup=False)
            return
        from .served import hand_over

        more = hand_over(self.app, path)
        self.notify(f"Saved {len(self.wb.journal)} steps to {path}{more}", markup=False)

    async def _replace_workbench(self, scenario: Scenario, allow_drop: set[str]) -> None:
        """Load `scenario` over the lanes; the work before stays in its own draft.

        The draft lock is held throughout, so no draft is written from half-replaced lanes,
        and the old draft is never written again once loading has begun, even if it fails.
        """
        async with self._draft_lock:
            await self._write_draft()  # the hand-built work as it is now
            try:
                await self.wb.load_scenario(scenario, allow_drop)
            finally:
                self.started, self.draft_path = self._scenario_stamp(), None
                self._draft_version = None

    def autosave_draft(self) -> None:
        """Save the workbench as a draft soon: a burst of changes makes one write."""
        self._draft_due = True
        if not self._draft_writing:
            self._draft_writing = True
            self._draft_writer()

    @work(group="draft", exit_on_error=False, description="autosave draft")
    async def _draft_writer(self) -> None:
        """Write the draft until no change is waiting. Never cancelled by a newer change:
        a write cut off in its thread would leave a file whose path nobody recorded."""
        try:
            while self._draft_due:
                await asyncio.sleep(0.2)  # coalesce a burst of changes into one write
                self._draft_due = False
                async with self._draft_lock:
                    await self._write_draft()
        finally:
            self._draft_writing = False

    async def _write_draft(self) -> None:
        """The workbench as a draft scenario (atomic: temp + rename); the lock is held."""
        wb = self.wb
        if not wb.has_steps(pending=True):
            return  # checked before importing the YAML writer: it is not needed at start
        from ..backend.drafts import new_draft_path, prune
        from ..config import drafts_dir
        from ..scenario.save import workbench_yaml, write_atomic

        text = workbench_yaml(wb, pending=True, title=f"Draft of {self.started}")
        if text == self._draft_version:
            return
        folder = drafts_dir()
        path = self.draft_path or new_draft_path(folder, self.started)

        def write() -> None:
            write_atomic(path, text)
            prune(folder)

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            self.notify(f"Cannot write the draft {path}: {exc.strerror}", severity="warning")
            return
        self._draft_version = text
        self.draft_path = path

    def action_export_diagram(self) -> None:
        from .diagram import ask_and_export

        ask_and_export(self)

    def action_export_code(self) -> None:
        from ..config import data_dir
        from ..scenario.loader import ScenarioError, parse_scenario
        from ..scenario.save import workbench_yaml
        from .scenarios import ExportScreen

        play = self.wb.play
        if play is not None:
            scenario, source = play.scenario, f"The loaded scenario, {play.scenario.source}"
        elif self.wb.has_steps():
            try:
                scenario = parse_scenario(workbench_yaml(self.wb), "<workbench>")
            except ScenarioError as exc:
                self.notify(f"Cannot export: {exc}", severity="error", markup=False)
                return
            source = "The workbench saved as a scenario: the steps that ran, with their outcomes"
        else:
            self.notify(
                "Nothing to export: load a scenario (l) or run some steps", severity="warning"
            )
            return
        exports = data_dir() / "exports"
        self.app.push_screen(
            ExportScreen(scenario, exports, source, getattr(self.app, "served", None))
        )

    @on(TimelineTable.RowSelected, "#timeline")
    def _timeline_row(self, event: TimelineTable.RowSelected) -> None:
        """Enter on a timeline row: the step in full (screens/step_detail.py)."""
        from .step_detail import StepDetailScreen

        found = self.query_one(TimelineTable).event_at(event.cursor_row)
        if found is not None:
            self.app.push_screen(StepDetailScreen(found))

    @on(CommittedPanel.Selected)
    def _doc_selected(self, event: CommittedPanel.Selected) -> None:
        from .dialogs import DocumentScreen

        title = f"{self.wb.db}.{self.wb.collection} _id {format_value(event.doc.get('_id'))}"
        self.app.push_screen(DocumentScreen(event.doc, title + " (committed)"))

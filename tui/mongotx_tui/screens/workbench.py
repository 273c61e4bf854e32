"""The workbench: lanes side by side, the committed panel and the timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, HorizontalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..backend.connection import BadURI
from ..backend.sessions import LaneBusy
from ..keys import WORKBENCH_KEYS, bindings
from ..model.lanes import TxnState
from ..model.literals import format_value
from ..widgets.documents import CommittedPanel
from ..widgets.lane import LaneWidget
from ..widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from ..app import MongoTxApp
    from ..backend.workbench import Workbench


class WorkbenchScreen(Screen[None]):
    BINDINGS = bindings(WORKBENCH_KEYS)  # type: ignore[assignment]
    app: MongoTxApp

    def __init__(self, wb: Workbench) -> None:
        super().__init__(id="workbench")
        self.wb = wb
        self.active_lane_id: int | None = None
        self._dirty: set[tuple[str, int | None]] = set()
        self._flush_scheduled = False
        self.ready = False  # connected and the first page shown
        self.committed_shown_at: float | None = None  # perf time of the last panel update

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("connecting…", id="deployment", markup=False)
        yield Static("", id="notice", markup=False)
        yield HorizontalScroll(id="lanes")
        with Horizontal(id="bottom"):
            yield CommittedPanel()
            yield TimelineTable()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#notice").display = False
        self.wb.notify = self._on_backend
        self.set_interval(0.2, self._tick)
        self.connect_worker()

    # -- backend → UI ----------------------------------------------------------------------
    def _on_backend(self, kind: str, lane_id: int | None) -> None:
        self._dirty.add((kind, lane_id))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.call_later(self._flush)

    async def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        kinds = {k for k, _ in dirty}
        if "connection" in kinds:
            self._show_deployment()
        if "lanes" in kinds or "connection" in kinds:
            await self._sync_lanes()
        if "committed" in kinds:
            self._show_committed()
        if "timeline" in kinds:
            self._show_timeline()
        lanes = {lane_id for k, lane_id in dirty if k == "lane" and lane_id is not None}
        if "committed" in kinds:
            lanes |= {lane.id for lane in self.wb.lanes}
        for lane_id in lanes:
            self._show_lane(lane_id)

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
        box = self.query_one("#lanes", HorizontalScroll)
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
        for lane in self.wb.lanes:
            self._show_lane(lane.id)

    def _lane_widget(self, lane_id: int) -> LaneWidget | None:
        try:
            return self.query_one(f"#lane-{lane_id}", LaneWidget)
        except Exception:
            return None

    def _show_lane(self, lane_id: int, full: bool = True) -> None:
        widget = self._lane_widget(lane_id)
        if widget is None:
            return
        widget.set_class(lane_id == self.active_lane_id, "-active")
        lifetime = self.wb.deployment.lifetime_limit_s if self.wb.deployment else 60.0
        widget.update_lane(self.wb.clock(), lifetime, self.wb.page.docs, full=full)

    def _show_committed(self) -> None:
        panel = self.query_one(CommittedPanel)
        panel.show(f"{self.wb.db}.{self.wb.collection}", self.wb.page, self.wb.watch_mode)
        self.committed_shown_at = self.wb.perf()

    def _show_timeline(self) -> None:
        colours = {lane.name: lane.colour for lane in self.wb.lanes}
        table = self.query_one(TimelineTable)
        table.append(self.wb.timeline.after(table.shown_seq), colours)

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
            self._fault("Bad URI", str(exc))
            return
        except Exception as exc:
            info = error_info(exc, self.wb.scrub)
            self._fault("Cannot reach the server", f"{info.headline}\n\n{info.message}")
            return
        await self.wb.refresh_committed(0)
        await self._flush()
        self.ready = True
        self.app.post_message(self.app.WorkbenchReady())
        self.watch_worker()
        if self.wb.lanes:
            self._focus_lane(self.wb.lanes[0].id)

    def _fault(self, title: str, message: str) -> None:
        from ..backend.connection import mask_uri
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

    async def open_collection(self, db: str, collection: str) -> None:
        """Watch another collection: first page at once, then push (or polling)."""
        self.wb.db, self.wb.collection = db, collection
        self.wb.watch_mode = ""
        await self.wb.refresh_committed(0)
        self.watch_worker()

    @work(exclusive=True, group="watch", exit_on_error=False, description="watch committed")
    async def watch_worker(self) -> None:
        await self.wb.watch()

    # -- lanes -----------------------------------------------------------------------------
    def _focus_lane(self, lane_id: int) -> None:
        old = self.active_lane_id
        self.active_lane_id = lane_id
        widget = self._lane_widget(lane_id)
        if widget is not None:
            widget.queue.focus()
            widget.scroll_visible()
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
            self._on_backend("lane", lane_id)

        self.run_worker(
            guarded(), group=f"lane-{lane_id}-{what}", exit_on_error=False, description=what
        )

    @on(LaneWidget.Action)
    def _lane_action(self, event: LaneWidget.Action) -> None:
        self.active_lane_id = event.lane_id
        lane = self.wb.lane(event.lane_id)
        if event.index is None:
            getattr(self, f"action_{event.action}")()
            return
        queue = lane.queue
        if not (0 <= event.index < len(queue)):
            return
        item = queue[event.index]
        if event.action == "edit":
            from .editor import EditorScreen

            if item.status.value == "running":
                self.notify("It is running; edit it when it ends", severity="warning")
                return

            def edited(spec: Any) -> None:
                if spec is not None:
                    from ..model.lanes import QueuedOp

                    queue[event.index] = QueuedOp(spec)
                    self._on_backend("lane", lane.id)

            self.app.push_screen(EditorScreen(lane.name, item.spec), edited)
        elif event.action == "duplicate":
            self.wb.enqueue(lane.id, item.spec.copy(), event.index + 1)
        elif event.action == "delete":
            if item.status.value == "running":
                self.notify("It is running; it can't be deleted now", severity="warning")
                return
            del queue[event.index]
            self._on_backend("lane", lane.id)
        elif event.action == "move":
            j = event.index + event.delta
            if 0 <= j < len(queue):
                queue[event.index], queue[j] = queue[j], queue[event.index]
                self._on_backend("lane", lane.id)
                widget = self._lane_widget(lane.id)
                if widget is not None:
                    self.call_after_refresh(setattr, widget.queue, "highlighted", j)

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

        last = lane.queue[-1].spec.copy() if lane.queue else None
        self.app.push_screen(
            EditorScreen(lane.name, last, title=f"New operation in lane {lane.name}"), queued
        )

    def action_step(self) -> None:
        lane_id = self._lane_id()
        if lane_id is None:
            return
        if self.wb.lane(lane_id).next_pending is None:
            self.notify("Nothing pending in this lane: add an operation (a)", severity="warning")
            return
        self._run(lane_id, "step", lambda: self.wb.step(lane_id))

    def action_run_outside(self) -> None:
        lane_id = self._lane_id()
        if lane_id is None:
            return
        if self.wb.lane(lane_id).next_pending is None:
            self.notify("Nothing pending in this lane: add an operation (a)", severity="warning")
            return
        self._run(lane_id, "outside", lambda: self.wb.step(lane_id, outside=True))

    def action_run_rest(self) -> None:
        lane_id = self._lane_id()
        if lane_id is not None:
            self._run(lane_id, "run-rest", lambda: self.wb.run_rest(lane_id))

    def action_start_txn(self) -> None:
        lane_id = self._lane_id()
        if lane_id is not None:
            self._run(lane_id, "start", lambda: self.wb.start_transaction(lane_id))

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

    def action_commit(self) -> None:
        lane_id = self._lane_id()
        if lane_id is None:
            return

        async def commit() -> None:
            await self.wb.commit(lane_id)
            await self.wb.refresh_committed()

        self._run(lane_id, "commit", commit)

    def action_abort(self) -> None:
        lane_id = self._lane_id()
        if lane_id is not None:
            self._run(lane_id, "abort", lambda: self.wb.abort(lane_id))

    def action_end_session(self) -> None:
        lane_id = self._lane_id()
        if lane_id is not None:
            self._run(lane_id, "end", lambda: self.wb.end_session(lane_id))

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
        self._run(lane_id, "remove", lambda: self.wb.remove_lane(lane_id))

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

    def action_connect(self) -> None:
        from .dialogs import ConnectScreen

        current = self.wb.deployment.uri_masked if self.wb.deployment else "not connected"

        def chosen(uri: str | None) -> None:
            if uri is None:
                return
            self.ready = False
            self.connect_worker(uri or None)

        self.app.push_screen(ConnectScreen(current), chosen)

    @on(CommittedPanel.Selected)
    def _doc_selected(self, event: CommittedPanel.Selected) -> None:
        from .dialogs import DocumentScreen

        title = f"{self.wb.db}.{self.wb.collection} _id {format_value(event.doc.get('_id'))}"
        self.app.push_screen(DocumentScreen(event.doc, title + " (committed)"))

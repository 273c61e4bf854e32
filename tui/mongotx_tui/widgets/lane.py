"""A session lane: header (state, lsid, options, timers), buttons, queue, error, view; or,
when narrow (class -compact), its state, last outcome and changed fields in a few lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..keys import QUEUE_KEYS, bindings
from ..model.lanes import LANE_COLOURS, Lane, OpStatus, view_docs
from .changes import compact_lane, view_changes, view_heading
from .fit import fit, height
from .render import error_block, lane_header, lane_title, no_view_reason, queue_item

# The toolbar's labels, each a key of the key table (keys.py) by its id: clicking one does
# what the key does.
LANE_BUTTONS = (
    ("start-txn", "Txn"),
    ("add-op", "+Op"),
    ("step", "Step"),
    ("commit", "Commit"),
    ("abort", "Abort"),
)


class LaneToolbar(Static):
    """The lane's actions as one line of clickable labels. One widget instead of a row of
    Buttons: each Button is a styled widget of its own, and ten of them were the largest
    single cost of the workbench's first screen."""

    @dataclass
    class Pressed(Message):
        """One of the toolbar's labels was clicked: the id of the key it stands for."""

        action: str

    def __init__(self) -> None:
        links = [
            Content.from_markup(f"[@click=press('{action}')] $label [/]", label=label)
            for action, label in LANE_BUTTONS
        ]
        super().__init__(Content(" ").join(links), classes="lane-buttons")

    def action_press(self, action: str) -> None:
        self.post_message(self.Pressed(action))


class QueueList(OptionList):
    """The lane's queue. Keys act on the highlighted item and are posted up."""

    BINDINGS = bindings(QUEUE_KEYS)  # type: ignore[assignment]

    @dataclass
    class Action(Message):
        """A queue key was pressed on the highlighted item."""

        queue: QueueList
        action: str
        index: int
        delta: int = 0

    def _post(self, action: str, delta: int = 0) -> None:
        if self.highlighted is not None:
            self.post_message(self.Action(self, action, self.highlighted, delta))

    def action_edit_op(self) -> None:
        self._post("edit")

    def action_duplicate_op(self) -> None:
        self._post("duplicate")

    def action_delete_op(self) -> None:
        self._post("delete")

    def action_move_op(self, delta: int) -> None:
        self._post("move", delta)


class LaneBody(VerticalScroll):
    """The lane's one scroller: its queue, error and view."""

    def on_resize(self, event: events.Resize) -> None:
        lane = self.parent
        if isinstance(lane, LaneWidget):
            lane.body_resized()


class LaneWidget(Vertical):
    """Receives a Lane (state down); posts Action messages (events up)."""

    @dataclass
    class Action(Message):
        """A lane action for the screen to run: a toolbar label (`action` is a key id,
        `index` None) or a queue key on item `index` (edit, duplicate, delete, move)."""

        lane_id: int
        action: str
        index: int | None = None
        delta: int = 0

    @dataclass
    class Picked(Message):
        """A compact lane was clicked: make it the current lane (it expands)."""

        lane_id: int

    def __init__(self, lane: Lane) -> None:
        super().__init__(id=f"lane-{lane.id}", classes=f"lane lane-{lane.colour}")
        self.lane = lane
        self.border_title = f"Lane {lane.name}"
        self.next_step: int | None = None  # a loaded scenario's next step number
        self._colour = lane.colour  # the lane-<colour> class it has now
        self._content: dict[str, tuple[Any, ...]] = {}  # what each Static shows now
        self._heights: list[int] = []  # lines of each queue item as shown
        self._follow = False  # scroll to the highlighted item once the body has grown
        self._followed: int | None = None  # the item the queue follows (new, or running)
        self._shown: tuple[float, float | None, list[dict] | None] | None = None
        self._busy_shown: str | None = None  # what the border's subtitle says runs

    def compose(self) -> ComposeResult:
        yield Static(classes="lane-header")
        yield LaneToolbar()
        yield Static(classes="lane-compact")
        # The lane's one scroller: the queue grows to its items (no scrollbar of its own) and
        # the body scrolls it with the error and the view, following the highlighted item.
        with LaneBody(classes="lane-body"):
            yield QueueList(classes="queue")
            yield Static(classes="lane-error")
            yield Static(classes="lane-view")

    def on_click(self, event: events.Click) -> None:
        if self.has_class("-compact"):
            self.post_message(self.Picked(self.lane.id))

    @on(LaneToolbar.Pressed)
    def _button(self, event: LaneToolbar.Pressed) -> None:
        event.stop()
        self.post_message(self.Action(self.lane.id, event.action))

    @on(QueueList.Action)
    def _queue_action(self, event: QueueList.Action) -> None:
        event.stop()
        self.post_message(self.Action(self.lane.id, event.action, event.index, event.delta))

    def _update_queue(self, now: float, width: int) -> None:
        """Re-render only the queue items whose state changed (keeps big queues cheap); a
        new item or one that starts running is highlighted and scrolled to."""
        lane = self.lane
        queue = self.queue
        sigs: list[tuple[Any, ...]] = []
        for item in lane.queue:
            tick = (
                int((now - (item.started_at or now)) * 10) if item.status is OpStatus.RUNNING else 0
            )
            is_next = item.step is not None and item.step.index == self.next_step
            sigs.append(
                (
                    item.spec.id if item.spec is not None else -id(item),
                    id(item),
                    item.status,
                    item.summary,
                    item.error,
                    item.waiting,
                    tick,
                    width,
                    tuple(item.spec.texts.items()) if item.spec is not None else (),
                    item.check,
                    item.rolled_back,
                    is_next,
                )
            )
        old = getattr(self, "_sigs", None)
        if not lane.queue:
            if old != []:
                queue.set_options([Option("(empty: press a to add an operation)", disabled=True)])
            self._sigs, self._heights = [], [1]
            return

        def prompt(i: int) -> Any:
            text = fit(queue_item(i + 1, lane.queue[i], now, width, sigs[i][-1]), width)
            self._heights[i] = height(text)
            return text

        same = (
            old is not None
            and len(old) == len(sigs)
            and all(o[0] == n[0] and o[1] == n[1] for o, n in zip(old, sigs, strict=True))
        )
        follow: int | None = None
        heights = list(self._heights)
        if same:
            assert old is not None
            for i, (o, n) in enumerate(zip(old, sigs, strict=True)):
                if o != n:
                    queue.replace_option_prompt_at_index(i, prompt(i))
                    if n[2] is OpStatus.RUNNING and o[2] is not OpStatus.RUNNING:
                        follow = i  # it started: the queue follows it
        else:
            known = {sig[1] for sig in old or []}
            highlighted = queue.highlighted
            self._heights = [1] * len(sigs)
            queue.set_options([Option(prompt(i)) for i in range(len(sigs))])
            queue.highlighted = min(highlighted if highlighted is not None else 0, len(sigs) - 1)
            fresh = [i for i, sig in enumerate(sigs) if sig[1] not in known]
            running = [i for i, sig in enumerate(sigs) if sig[2] is OpStatus.RUNNING]
            if old is not None and (fresh or running):
                follow = (running or fresh)[-1]
        self._sigs = sigs
        if follow is not None:
            self._followed = follow
            queue.highlighted = follow
            self.call_after_refresh(self.follow_highlight)
        elif heights != self._heights and self._followed == queue.highlighted:
            # items grew or shrank (a wait and its reason, a result): the followed one is
            # put back where following puts it
            self.call_after_refresh(self.follow_highlight)

    def follow_highlight(self, top: bool = True) -> None:
        """Scroll the lane's body to the queue's highlighted item (the queue has no scroller
        of its own: its items' heights are the lines we fitted them to). An item the queue
        follows (new, or started running) goes to the top of the body, as far as it can
        scroll, wherever the body was: the same picture whatever the order of the renders
        before it; an item the user moves to is only scrolled into view."""
        at = self.queue.highlighted
        span = self.item_span(at) if at is not None else None
        self._follow = False
        if span is not None:
            body = self.query_one(LaneBody)
            # an item just added may lie beyond what the body has laid out yet: its next
            # Resize (virtual size) scrolls again
            self._follow = top and span[0] > body.max_scroll_y
            body.scroll_to_region(
                Region(0, span[0], 1, span[1]), animate=False, force=True, top=top
            )

    def item_span(self, index: int) -> tuple[int, int] | None:
        """Where queue item `index` is in the lane's body: (first line, lines)."""
        if not 0 <= index < len(self._heights):
            return None
        return self.queue.virtual_region.y + sum(self._heights[:index]), self._heights[index]

    def body_resized(self) -> None:
        if self._follow or (
            self._followed is not None and self._followed == self.queue.highlighted
        ):
            self.follow_highlight()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self._followed:  # the user's (or a scenario step's) choice
            self._followed = None
            self.call_after_refresh(self.follow_highlight, False)

    def on_resize(self, event: events.Resize) -> None:
        # Items and views are fitted to the width: fit them again (a lane's width changes
        # with the number of lanes, the focus and the body's scrollbar).
        self.refresh_lane()

    def refresh_lane(self) -> None:
        """Show the lane again as last given, fitted to its width and layout now."""
        self._sigs = None
        self._content.clear()
        if self._shown is not None:
            self.update_lane(*self._shown)

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    def update_lane(
        self,
        now: float,
        lifetime_s: float | None,
        committed: list[dict] | None,
        full: bool = True,
    ) -> None:
        lane = self.lane
        self.set_class(lane.in_txn, "-in-txn")
        if lane.colour != self._colour:  # recoloured: swap the colour class
            for colour in LANE_COLOURS:
                self.set_class(colour == lane.colour, f"lane-{colour}")
            self._colour = lane.colour
        self.border_title = lane_title(lane)
        if lane.busy != self._busy_shown:
            # Coloured by itself, not by a -busy class: that class came and went twice a
            # step and each time restyled the lane and every widget in it, ~40% of the
            # screen's flushes on the keypress → timeline row path (tui_bench)
            self._busy_shown = lane.busy
            self.border_subtitle = (
                Content.from_markup("[$warning]running $busy", busy=lane.busy) if lane.busy else ""
            )
        if full or self._shown is None:
            self._shown = (now, lifetime_s, committed)
        else:
            self._shown = (now, lifetime_s, self._shown[2])
            committed = self._shown[2]
        width = max(8, self.size.width)  # inside the border and padding
        docs = None
        if lane.view is not None:
            docs = view_docs(committed or [], lane.view, lane.view_base)
        if self.has_class("-compact"):
            self._set(".lane-compact", compact_lane(lane, docs, lane.view_note, width))
            return
        self._set(".lane-header", lane_header(lane, now, lifetime_s))
        # the body's scrollbar comes and goes with its content: fit to the space left by it
        inner = max(8, width - 1)
        self._update_queue(now, inner)
        error = self.query_one(".lane-error", Static)
        if lane.last_error is not None:
            self._set(".lane-error", error_block(lane.last_error))
            error.display = True
        else:
            error.display = False
        if full:
            view = Text(no_wrap=False, overflow="fold")
            if docs is None:
                view.append(no_view_reason(lane, lane.view_note), style="dim")
            else:
                view.append(view_heading(docs), style="dim")
                shown = view_changes(docs, inner)
                if shown.plain:
                    view.append("\n")
                    view.append_text(shown)
            self._set(".lane-view", view)

    def _set(self, selector: str, content: Text) -> None:
        """Update a Static only when its content changes: each update lays the whole
        screen out again (a Static's height may change), ~10 ms at 120x36."""
        # rich's Text == compares the characters and spans only, not the base style.
        key = (content.plain, tuple(content.spans), str(content.style), content.no_wrap)
        if self._content.get(selector) != key:
            self._content[selector] = key
            self.query_one(selector, Static).update(content)

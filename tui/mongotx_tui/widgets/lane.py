"""A session lane: header (state, lsid, options, timers), buttons, queue, error, view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..keys import QUEUE_KEYS, bindings
from ..model.lanes import LANE_COLOURS, Lane, OpStatus, diff_marks
from .render import error_block, lane_header, lane_title, lane_view, queue_item

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

    def __init__(self, lane: Lane) -> None:
        super().__init__(id=f"lane-{lane.id}", classes=f"lane lane-{lane.colour}")
        self.lane = lane
        self.border_title = f"Lane {lane.name}"
        self.next_step: int | None = None  # a loaded scenario's next step number
        self._colour = lane.colour  # the lane-<colour> class it has now
        self._content: dict[str, tuple[Any, ...]] = {}  # what each Static shows now

    def compose(self) -> ComposeResult:
        yield Static(classes="lane-header")
        yield LaneToolbar()
        with VerticalScroll(classes="lane-body"):
            yield QueueList(classes="queue")
            yield Static(classes="lane-error")
            yield Static(classes="lane-view")

    @on(LaneToolbar.Pressed)
    def _button(self, event: LaneToolbar.Pressed) -> None:
        event.stop()
        self.post_message(self.Action(self.lane.id, event.action))

    @on(QueueList.Action)
    def _queue_action(self, event: QueueList.Action) -> None:
        event.stop()
        self.post_message(self.Action(self.lane.id, event.action, event.index, event.delta))

    def _update_queue(self, now: float, width: int) -> None:
        """Re-render only the queue items whose state changed (keeps big queues cheap)."""
        lane = self.lane
        queue = self.queue
        sigs = []
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
                    is_next,
                )
            )
        old = getattr(self, "_sigs", None)
        if not lane.queue:
            if old != []:
                queue.set_options([Option("(empty: press a to add an operation)", disabled=True)])
            self._sigs = []
            return
        if (
            old is not None
            and len(old) == len(sigs)
            and all(o[0] == n[0] and o[1] == n[1] for o, n in zip(old, sigs, strict=True))
        ):
            for i, (o, n) in enumerate(zip(old, sigs, strict=True)):
                if o != n:
                    queue.replace_option_prompt_at_index(
                        i, queue_item(i + 1, lane.queue[i], now, width, n[-1])
                    )
        else:
            highlighted = queue.highlighted
            queue.set_options(
                [
                    Option(queue_item(i + 1, item, now, width, sig[-1]))
                    for i, (item, sig) in enumerate(zip(lane.queue, sigs, strict=True))
                ]
            )
            queue.highlighted = min(highlighted if highlighted is not None else 0, len(sigs) - 1)
        self._sigs = sigs

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
        self.set_class(bool(lane.busy), "-busy")
        if lane.colour != self._colour:  # recoloured: swap the colour class
            for colour in LANE_COLOURS:
                self.set_class(colour == lane.colour, f"lane-{colour}")
            self._colour = lane.colour
        self.border_title = lane_title(lane)
        self.border_subtitle = lane.busy and f"running {lane.busy}"
        self._set(".lane-header", lane_header(lane, now, lifetime_s))
        width = max(20, self.size.width - 4)
        self._update_queue(now, width)
        error = self.query_one(".lane-error", Static)
        if lane.last_error is not None:
            self._set(".lane-error", error_block(lane.last_error))
            error.display = True
        else:
            error.display = False
        if full:
            marked = None
            if lane.view is not None:
                marked = diff_marks(committed or [], lane.view, lane.view_base)
            self._set(".lane-view", lane_view(marked, lane.view_note, lane))

    def _set(self, selector: str, content: Text) -> None:
        """Update a Static only when its content changes: each update lays the whole
        screen out again (a Static's height may change), ~10 ms at 120x36."""
        # rich's Text == compares the characters and spans only, not the base style.
        key = (content.plain, tuple(content.spans), str(content.style), content.no_wrap)
        if self._content.get(selector) != key:
            self._content[selector] = key
            self.query_one(selector, Static).update(content)

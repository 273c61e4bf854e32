"""The command monitor: every command the workbench's client sent and the server's reply,
one line each, newest last (the model's CommandLog, from pymongo's command monitoring).

Thousands of lines: a Line API ScrollView renders only the lines on screen (with an LRU
cache), so adding a command or dropping the oldest costs the same at 10 lines or 10 000.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ..keys import MONITOR_KEYS, bindings
from ..model.monitor import CommandRecord
from .render import fmt_ms

LANE_WIDTH = 6
# The columns by width: all of them from 110 cells, without time and lsid from 70.
COLUMNS = {
    "wide": ("time", "lane", "name", "lsid", "txn", "ms", "reply", "fields"),
    "medium": ("lane", "name", "txn", "ms", "reply"),
    "compact": ("lane", "name", "reply"),
}
TITLES = {
    "time": "time",
    "lane": "lane",
    "name": "command",
    "lsid": "lsid",
    "txn": "txn",
    "ms": "took",
    "reply": "reply",
    "fields": "fields",
}
WIDTHS = {"time": 12, "lane": LANE_WIDTH, "name": 21, "lsid": 8, "txn": 3, "ms": 6}
GAP = 1  # cells between columns


def _mode(width: int) -> str:
    return "wide" if width >= 110 else "medium" if width >= 70 else "compact"


def column_widths(width: int) -> dict[str, int]:
    """Each column's width at `width` cells: the reply (codes and labels: what people
    read) takes what the fixed columns leave, before the concern fields."""
    keys = COLUMNS[_mode(width)]
    widths = {k: WIDTHS[k] for k in keys if k in WIDTHS}
    rest = width - sum(widths.values()) - GAP * (len(keys) - 1)
    if rest < 16:  # narrow: the command's name gives the reply room, down to 10 cells
        given = min(widths["name"] - 10, 16 - rest)
        widths["name"] -= given
        rest += given
    rest = max(6, rest)
    if "fields" in keys:
        widths["fields"] = min(36, rest // 3)
        widths["reply"] = rest - widths["fields"] - GAP
    else:
        widths["reply"] = rest
    return {k: widths[k] for k in keys}


def cells(r: CommandRecord, colours: dict[str, str]) -> dict[str, Text]:
    """One record's cells, each styled."""
    lane_style = f"bold {colours.get(r.lane, '')}".strip()
    name = r.name + (f" #{r.attempt}" if r.attempt > 1 else "")
    style = "dim" if r.internal else ("bold" if r.attempt == 1 else "bold yellow")
    reply_style = "" if r.ok else ("dim" if r.pending else "red")
    stamp = _time.strftime("%H:%M:%S", _time.localtime(r.at)) + f".{int(r.at * 1000) % 1000:03d}"
    return {
        "time": Text(stamp),
        "lane": Text(r.lane or "·", style=lane_style if r.lane else "dim"),
        "name": Text(name, style=style),
        "lsid": Text(r.lsid, style="dim"),
        "txn": Text("" if r.txn_number is None else str(r.txn_number)),
        "ms": Text(fmt_ms(r.duration_ms)),
        "reply": Text(r.outcome(), style=reply_style),
        "fields": Text(r.concerns()),
    }


def line(parts: dict[str, Text], widths: dict[str, int]) -> Text:
    """The cells side by side, each cut with an ellipsis or padded to its width."""
    out = Text(no_wrap=True, overflow="ellipsis")
    for n, (key, width) in enumerate(widths.items()):
        cell = parts[key].copy()
        head, mark, attempt = cell.plain.rpartition(" #")
        if mark and cell.cell_len > width:  # a narrow column keeps the retry's number
            keep = max(1, width - len(attempt) - 2)
            cell = Text(f"{head[: keep - 1]}…#{attempt}", style=cell.style)
        cell.truncate(width, overflow="ellipsis", pad=True)
        if n:
            out.append(" " * GAP)
        out.append_text(cell)
    return out


class MonitorLines(ScrollView, can_focus=True):
    """The records, one line each; the cursor line opens with enter."""

    COMPONENT_CLASSES = {"monitor-lines--cursor"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="monitor-up"),
        Binding("down", "cursor(1)", "Down", show=False, id="monitor-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="monitor-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="monitor-page-down"),
        Binding("home", "edge(0)", "First", show=False, id="monitor-first"),
        Binding("end", "edge(1)", "Last", show=False, id="monitor-last"),
        *bindings(MONITOR_KEYS),
    ]

    class Selected(Message):
        def __init__(self, record: CommandRecord) -> None:
            super().__init__()
            self.record = record

    class Filter(Message):
        """`lane`: cycle the lane filter; else toggle the workbench's own traffic."""

        def __init__(self, lane: bool) -> None:
            super().__init__()
            self.lane = lane

    def __init__(self) -> None:
        super().__init__(id="monitor-lines")
        self.records: list[CommandRecord] = []  # what is listed, oldest first
        self.cursor = 0
        self.colours: dict[str, str] = {}
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)

    # -- state down ----------------------------------------------------------------------
    def show(
        self,
        log: Sequence[CommandRecord],
        keep: Callable[[CommandRecord], bool],
        colours: dict[str, str],
        reset: bool = False,
    ) -> None:
        """List the records of `log` (oldest first, bounded) that `keep` accepts: new ones
        are appended, the log's dropped oldest go; `reset` (a new filter) lists all again.
        The cursor follows the newest line while it is on the last one."""
        if colours != self.colours:
            self.colours = colours  # a new object: the cached lines' key changes with it
        follow = not self.records or self.cursor >= len(self.records) - 1
        if reset:
            self.records = []
        last = self.records[-1].seq if self.records else 0
        new: list[CommandRecord] = []
        for record in reversed(log):
            if record.seq <= last:
                break
            if keep(record):
                new.append(record)
        self.records.extend(reversed(new))
        oldest = log[0].seq if log else last + 1
        gone = next((n for n, r in enumerate(self.records) if r.seq >= oldest), len(self.records))
        if gone:
            del self.records[:gone]
            self.cursor = max(0, self.cursor - gone)
        if self.virtual_size.height != len(self.records):
            self.virtual_size = Size(self.size.width, len(self.records))
        if follow or reset:
            self.cursor = max(0, len(self.records) - 1)
            self.scroll_end(animate=False, immediate=True)
        self.refresh()

    # -- rendering -----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        if index >= len(self.records) or width <= 0:
            return Strip.blank(width, self.rich_style)
        record = self.records[index]
        selected = index == self.cursor and self.has_focus
        # A record changes once (its reply): the key holds what its line shows.
        key = (record.seq, record.pending, record.duration_ms, width, selected, id(self.colours))
        strip = self._cache.get(key)
        if strip is None:
            text = line(cells(record, self.colours), column_widths(width))
            segments = list(text.render(self.app.console))
            strip = Strip([s for s in segments if s.text != "\n"]).adjust_cell_length(width)
            base = self.rich_style
            if selected:
                base += self.get_component_rich_style("monitor-lines--cursor")
            strip = strip.apply_style(base)
            self._cache[key] = strip
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.records))
        self.post_message(MonitorHeaderWidth(event.size.width))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- keys and mouse ------------------------------------------------------------------
    def _move(self, index: int) -> None:
        if not self.records:
            return
        self.cursor = max(0, min(len(self.records) - 1, index))
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move(self.cursor + step * max(1, self.size.height - 1))

    def action_edge(self, end: int) -> None:
        self._move(len(self.records) - 1 if end else 0)

    def action_select(self) -> None:
        if 0 <= self.cursor < len(self.records):
            self.post_message(self.Selected(self.records[self.cursor]))

    def action_filter_lane(self) -> None:
        self.post_message(self.Filter(lane=True))

    def action_toggle_internal(self) -> None:
        self.post_message(self.Filter(lane=False))

    def on_click(self, event: events.Click) -> None:
        self._move(self.scroll_offset.y + event.y)
        if event.chain == 2:
            self.action_select()


class MonitorHeaderWidth(Message):
    """The lines' width changed: the header's columns follow."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width


class CommandMonitor(Vertical):
    """The pane: column titles above the lines."""

    def __init__(self) -> None:
        super().__init__(id="monitor")
        self.border_title = "Command monitor"

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="monitor-head", markup=False)
        yield MonitorLines()

    @property
    def lines(self) -> MonitorLines:
        return self.query_one(MonitorLines)

    def on_monitor_header_width(self, event: MonitorHeaderWidth) -> None:
        event.stop()
        widths = column_widths(event.width)
        titles = {k: Text(TITLES[k], style="bold") for k in widths}
        self.query_one("#monitor-head", Static).update(line(titles, widths))

    @classmethod
    async def toggle(cls, screen: Screen, container: Widget, timeline: Widget) -> bool:
        """Show the monitor in `timeline`'s place (mounted in `container` the first time:
        a screen starts without it), or the timeline again. True when the monitor shows."""
        found = screen.query("#monitor")
        pane: CommandMonitor | None = found.first() if found else None  # type: ignore[assignment]
        if pane is None:
            pane = cls()
            await container.mount(pane)
        elif pane.display:
            pane.display, timeline.display = False, True
            timeline.focus()
            return False
        pane.display, timeline.display = True, False
        lines = pane.lines
        lines.focus()
        # The column titles follow the lines' width, posted on a resize; once laid out,
        # post it too, in case the first size came before the pane could hear it.
        screen.call_after_refresh(lambda: lines.post_message(MonitorHeaderWidth(lines.size.width)))
        return True

"""The command monitor: every command the workbench's client sent and the server's reply,
one row each, newest last (the model's CommandLog, from pymongo's command monitoring)."""

from __future__ import annotations

import time as _time
from collections import deque
from collections.abc import Callable, Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

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
WIDTHS = {"time": 12, "lane": LANE_WIDTH, "name": 20, "lsid": 8, "txn": 3, "ms": 6}


def _mode(width: int) -> str:
    return "wide" if width >= 110 else "medium" if width >= 70 else "compact"


class CommandMonitorTable(DataTable[Text]):
    """Receives the records to list (`show`); posts Selected for Enter and Filter for the
    filter keys, which the screen applies (it owns the workbench)."""

    BINDINGS = [
        Binding("f", "filter_lane", "Filter lane", id="monitor-filter-lane"),
        Binding("i", "toggle_internal", "Internal traffic", id="monitor-internal"),
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
        super().__init__(id="monitor", cursor_type="row", zebra_stripes=False)
        self.border_title = "Command monitor"
        self._mode = ""
        self._records: deque[int] = deque()  # the listed records' seqs, oldest first
        self._by_seq: dict[int, CommandRecord] = {}
        self._pending: dict[int, CommandRecord] = {}  # rows still waiting for a reply
        self._colours: dict[str, str] = {}

    def on_mount(self) -> None:
        self._layout(_mode(self.size.width))

    def on_resize(self, event: events.Resize) -> None:
        mode = _mode(event.size.width)
        if mode != self._mode:
            self._layout(mode)
            self._refill()
        self._fit(event.size.width)

    def _layout(self, mode: str) -> None:
        self._mode = mode
        self.clear(columns=True)
        for key in COLUMNS[mode]:
            self.add_column(Text(TITLES[key]), key=key, width=WIDTHS.get(key, 12))
        self._fit(self.size.width)

    def _fit(self, width: int) -> None:
        """The reply (codes and labels: what people read) takes what the fixed columns
        leave, before the concern fields."""
        if not width:
            return
        keys = COLUMNS[self._mode]
        fixed = sum(WIDTHS[k] for k in keys if k in WIDTHS) + 2 * len(keys) + 1
        rest = max(12, width - fixed)
        widths = {"reply": rest}
        if "fields" in keys:
            widths["fields"] = min(36, rest // 3)
            widths["reply"] = rest - widths["fields"]
        for key, size in widths.items():
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.width = size
                column.auto_width = False
        self.refresh()

    # -- state down ----------------------------------------------------------------------
    def show(
        self,
        log: Sequence[CommandRecord],
        keep: Callable[[CommandRecord], bool],
        colours: dict[str, str],
        reset: bool = False,
    ) -> None:
        """List the records of `log` (oldest first, bounded) that `keep` accepts: rows are
        added for new records, updated when a reply arrives and dropped with the log's
        oldest; `reset` (a new filter) lists them all again."""
        self._colours = colours
        if reset:
            self._records.clear()
            self._by_seq.clear()
            self._pending.clear()
            self.clear()
        at_end = self.cursor_row >= self.row_count - 1
        for record in list(self._pending.values()):
            if not record.pending:
                self._update(record)
        last = self._records[-1] if self._records else 0
        new: list[CommandRecord] = []
        for record in reversed(log):
            if record.seq <= last:
                break
            if keep(record):
                new.append(record)
        for record in reversed(new):
            self._add(record)
        oldest = log[0].seq if log else last + 1
        while self._records and self._records[0] < oldest:
            self._drop(self._records.popleft())
        if at_end and self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def _refill(self) -> None:
        records = [self._by_seq[seq] for seq in self._records]
        self._records.clear()
        self._by_seq.clear()
        self._pending.clear()
        for record in records:
            self._add(record)

    def _drop(self, seq: int) -> None:
        self._by_seq.pop(seq, None)
        self._pending.pop(seq, None)
        try:
            self.remove_row(str(seq))
        except Exception:  # not listed (cleared meanwhile)
            pass

    def _cells(self, r: CommandRecord) -> dict[str, Text]:
        lane_style = f"bold {self._colours.get(r.lane, '')}".strip()
        lane = Text(r.lane or "·", style=lane_style if r.lane else "dim")
        name = r.name + (f" #{r.attempt}" if r.attempt > 1 else "")
        style = "dim" if r.internal else ("bold" if r.attempt == 1 else "bold yellow")
        reply_style = "" if r.ok else ("dim" if r.pending else "red")
        cells = {
            "lane": lane,
            "name": Text(name, style=style, no_wrap=True, overflow="ellipsis"),
            "reply": Text(r.outcome(), style=reply_style, no_wrap=True, overflow="ellipsis"),
        }
        if self._mode != "compact":
            stamp = _time.strftime("%H:%M:%S", _time.localtime(r.at))
            cells["time"] = Text(stamp + f".{int(r.at * 1000) % 1000:03d}")
            cells["lsid"] = Text(r.lsid, style="dim")
            cells["txn"] = Text("" if r.txn_number is None else str(r.txn_number))
            cells["fields"] = Text(r.concerns(), no_wrap=True, overflow="ellipsis")
            cells["ms"] = Text(fmt_ms(r.duration_ms))
        return cells

    def _add(self, r: CommandRecord) -> None:
        self._records.append(r.seq)
        self._by_seq[r.seq] = r
        cells = self._cells(r)
        order = [str(c.key.value) for c in self.ordered_columns]
        self.add_row(*(cells[k] for k in order), key=str(r.seq))
        if r.pending:
            self._pending[r.seq] = r

    def _update(self, r: CommandRecord) -> None:
        self._pending.pop(r.seq, None)
        cells = self._cells(r)
        for key in ("reply", "ms"):
            if key in cells and ColumnKey(key) in self.columns:
                try:
                    self.update_cell(str(r.seq), key, cells[key])
                except Exception:  # the row left the table (a new filter) meanwhile
                    return

    # -- messages up ---------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        record = self._by_seq.get(int(str(event.row_key.value)))
        if record is not None:
            self.post_message(self.Selected(record))

    def action_filter_lane(self) -> None:
        self.post_message(self.Filter(lane=True))

    def action_toggle_internal(self) -> None:
        self.post_message(self.Filter(lane=False))

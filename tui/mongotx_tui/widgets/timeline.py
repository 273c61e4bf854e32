"""The timeline: a DataTable that only ever appends (bounded), so it stays fast."""

from __future__ import annotations

import time as _time
from collections import deque

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from ..keys import TIMELINE_KEYS, bindings
from ..model.naming import MAX_LANE_NAME
from ..model.timeline import EventKind, TimelineEvent
from .render import fmt_ms

MAX_ROWS = 5000
COMPACT_BELOW = 70
OUTCOME_MIN = 12  # columns: narrower than this, show lane / outcome / step only
LANE_MIN = 4

KIND_STYLE = {
    EventKind.OP: "",
    EventKind.TXN: "bold",
    EventKind.CHANGE: "blue",
    EventKind.INFO: "dim",
}


class TimelineTable(DataTable[Text | str]):
    BINDINGS = bindings(TIMELINE_KEYS)  # type: ignore[assignment]  # enter: the step in full

    def __init__(self) -> None:
        super().__init__(id="timeline", cursor_type="row", zebra_stripes=False)
        self.border_title = "Timeline"
        self._first_key = 0
        self._shown = 0
        self._compact: bool | None = None
        self._lane_width = LANE_MIN  # grows to the longest lane name (renamed lanes)
        self._rows: deque[tuple[TimelineEvent, dict[str, str]]] = deque(maxlen=MAX_ROWS)

    def on_mount(self) -> None:
        self._layout(compact=False)

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        self._fit_outcome(event.size.width)
        if compact != self._compact:
            self._rebuild(compact)

    def _rebuild(self, compact: bool) -> None:
        """New columns, the same rows (each with the colours it was shown with)."""
        self._layout(compact)
        rows, self._rows = list(self._rows), deque(maxlen=MAX_ROWS)
        for ev, colours in rows:
            self._add(ev, colours)
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def _layout(self, compact: bool) -> None:
        self._compact = compact
        self.clear(columns=True)
        if compact:
            self.add_column(Text("lane"), key="lane", width=self._lane_width)
            self.add_column(Text("outcome"), key="outcome", width=24)
            self.add_column(Text("step"), key="what")
        else:
            self.add_column(Text("time"), key="time", width=12)
            self.add_column(Text("lane"), key="lane", width=self._lane_width)
            self.add_column(Text("took"), key="ms", width=6)
            self.add_column(Text("outcome"), key="outcome", width=OUTCOME_MIN)
            self.add_column(Text("step"), key="what", width=OUTCOME_MIN)
        self._fit_outcome(self.size.width)

    def _fit_outcome(self, width: int) -> None:
        """Outcome (codes, labels: what people read) and step share the rest of the width,
        the outcome first, so an error code is never cut off."""
        if self._compact or not width:
            return
        fixed = 12 + self._lane_width + 6 + 2 * 5 + 2  # fixed columns, padding
        rest = max(2 * OUTCOME_MIN, width - fixed)
        outcome_width = max(OUTCOME_MIN, min(44, rest * 3 // 5))
        for key, size in (("outcome", outcome_width), ("what", rest - outcome_width)):
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.width = size
                column.auto_width = False
        self.refresh()

    def event_at(self, row: int) -> TimelineEvent | None:
        """The event shown on row `row` (the cursor's row: Enter shows its details)."""
        try:
            key = self.coordinate_to_cell_key((row, 0)).row_key.value
        except Exception:
            return None
        seq = int(key) if key is not None else -1
        return next((ev for ev, _ in reversed(self._rows) if ev.seq == seq), None)

    @property
    def shown_seq(self) -> int:
        return self._shown

    def _add(self, ev: TimelineEvent, colours: dict[str, str]) -> None:
        self._rows.append((ev, colours))
        name = {"server": "db", "": "·"}.get(ev.lane, ev.lane)
        lane = Text(name, style=f"bold {colours.get(ev.lane, '')}".strip())
        style = KIND_STYLE[ev.kind] if ev.ok else "red"
        if ev.check is None:
            outcome = Text(ev.outcome, style=style, no_wrap=True, overflow="ellipsis")
        elif ev.check == "":  # a scenario step that did what the scenario expects
            outcome = Text("✓ ", style="bold green", no_wrap=True, overflow="ellipsis")
            outcome.append(ev.outcome, style=style)
        else:
            outcome = Text(f"✗ {ev.check}", style="bold red", no_wrap=True, overflow="ellipsis")
        what = Text(ev.what, style=KIND_STYLE[ev.kind], no_wrap=True, overflow="ellipsis")
        if self._compact:
            self.add_row(lane, outcome, what, key=str(ev.seq))
            return
        stamp = (
            _time.strftime("%H:%M:%S", _time.localtime(ev.at)) + f".{int(ev.at * 1000) % 1000:03d}"
        )
        # Text, not str: DataTable parses a str cell as markup (and loads rich's emoji table).
        took = Text(fmt_ms(ev.duration_ms))
        self.add_row(Text(stamp), lane, took, outcome, what, key=str(ev.seq))

    def _fit_lane(self, names: list[str]) -> None:
        """Widen the lane column for a longer lane name; it never narrows (older rows)."""
        want = min(MAX_LANE_NAME, max([LANE_MIN, *(len(n) for n in names)]))
        if want <= self._lane_width:
            return
        self._lane_width = want
        if self._compact is not None:
            self._rebuild(self._compact)

    def append(self, events: list[TimelineEvent], colours: dict[str, str]) -> None:
        self._fit_lane(list(colours))
        at_end = self.cursor_row >= self.row_count - 1
        for ev in events:
            if ev.seq <= self._shown:
                continue
            self._shown = ev.seq
            self._add(ev, colours)
        while self.row_count > MAX_ROWS:
            self._first_key += 1
            try:
                self.remove_row(str(self._first_key))
            except Exception:
                pass
        if at_end and self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

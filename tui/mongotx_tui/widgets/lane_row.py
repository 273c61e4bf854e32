"""The lanes side by side, all of them at once: each gets a share of the width; below a
lane's full width the others turn compact and the focused one keeps a readable width; a
maximised lane takes the row alone."""

from __future__ import annotations

from textual import events
from textual.containers import Horizontal

from .lane import LaneWidget

FULL_WIDTH = 38  # columns a lane needs for its full layout (header, toolbar, queue)
FOCUSED_WIDTH = 44  # the focused lane's width when the others are compact
COMPACT_MIN = 16  # the least a compact lane is given before the focused one shrinks
FOCUSED_MIN = 24  # narrower than this, the focused lane is compact too (6 lanes at 80)


def lane_widths(total: int, count: int, focused: int) -> list[int]:
    """Widths summing to `total`: equal shares when each is at least FULL_WIDTH; else the
    lane at index `focused` gets FOCUSED_WIDTH (less if the others would drop below
    COMPACT_MIN, never less than an equal share) and the others share the rest."""
    if count <= 0:
        return []
    share = total // count
    if share >= FULL_WIDTH or count == 1:
        widths = [share] * count
        for i in range(total - share * count):
            widths[i] += 1
        return widths
    wide = max(share, min(FOCUSED_WIDTH, total - (count - 1) * COMPACT_MIN))
    rest, others = total - wide, count - 1
    widths = [rest // others + (1 if i < rest % others else 0) for i in range(others)]
    widths.insert(focused, wide)
    return widths


class LaneRow(Horizontal):
    """Holds the LaneWidgets and gives each its width and layout (full, compact, hidden)."""

    def __init__(self) -> None:
        super().__init__(id="lanes")
        self.active_id: int | None = None
        self.maximised = False  # the active lane alone (the maximise-lane key)

    def place_lanes(self, active_id: int | None = None, maximised: bool | None = None) -> None:
        """Widths and classes for the lanes now mounted; call after a lane comes or goes,
        the focus moves, or the row is resized."""
        if active_id is not None:
            self.active_id = active_id
        if maximised is not None:
            self.maximised = maximised
        lanes = list(self.query_children(LaneWidget))
        total = self.size.width or self.app.size.width
        if not lanes or not total:
            return
        ids = [w.lane.id for w in lanes]
        focused = ids.index(self.active_id) if self.active_id in ids else 0
        if self.maximised:
            widths = [total if i == focused else 0 for i in range(len(lanes))]
        else:
            widths = lane_widths(total, len(lanes), focused)
        for i, (widget, width) in enumerate(zip(lanes, widths, strict=True)):
            widget.display = width > 0
            compact = 0 < width < (FULL_WIDTH if i != focused else FOCUSED_MIN)
            if widget.styles.width is None or widget.styles.width.value != width:
                widget.styles.width = width
            if widget.has_class("-compact") != compact:
                widget.set_class(compact, "-compact")
                widget.refresh_lane()

    def on_resize(self, event: events.Resize) -> None:
        self.place_lanes()

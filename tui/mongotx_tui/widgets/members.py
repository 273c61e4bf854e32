"""The members panel: each replica set member's state, optime, lag and whether its
replication is paused or delayed, as replSetGetStatus last answered (issue 13 item 5).

A DataTable (three to seven rows); the screen feeds it MembersView and handles its keys'
messages (pause, delay, step down), which act on the highlighted member.
"""

from __future__ import annotations

from textual.message import Message
from textual.widgets import DataTable

from ..keys import MEMBERS_KEYS, bindings
from ..model.members import MembersView

# The delays `y` steps through, in seconds (back to 0 after the last).
DELAYS = (0.0, 2.0, 5.0, 10.0)


def _lag(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}s"


class MembersPanel(DataTable[str]):
    """Posts Act(kind, host) for the highlighted member: pause, delay, step-down."""

    BINDINGS = bindings(MEMBERS_KEYS)  # type: ignore[assignment]

    class Act(Message):
        def __init__(self, kind: str, host: str) -> None:
            super().__init__()
            self.kind = kind
            self.host = host

    def __init__(self) -> None:
        super().__init__(id="members", cursor_type="row", zebra_stripes=False)
        self.border_title = "Members"
        self.view: MembersView | None = None

    def on_mount(self) -> None:
        self.add_columns("id", "member", "state", "optime", "lag", "replication")

    def show(self, view: MembersView, viewing: str | None) -> None:
        """The rows as the server described them; `viewing`: the member whose own data the
        committed panel shows (None: the primary, through the client)."""
        self.view = view
        row = self.cursor_row
        self.clear()
        if view.error:
            self.border_subtitle = f"replSetGetStatus: {view.error}"
            return
        for m in view.members:
            seen = " ◀ committed" if m.host == viewing else ""
            paused = "?" if m.paused is None else ("paused" if m.paused else "applying")
            if m.state == "PRIMARY":
                paused = "—"
            replication = ", ".join(
                p for p in (paused, m.flags().replace("paused", "").strip(", ")) if p
            )
            self.add_row(
                str(m.id), m.host + seen, m.state, m.optime, _lag(m.lag_s), replication, key=m.host
            )
        if view.members:
            self.move_cursor(row=min(row, len(view.members) - 1))
        rolled = ""
        if view.rolled_back:  # the sandbox lists what rollback undid; the newest named
            last = view.rolled_back[-1]
            what = f"{last.get('op', '?')} {last.get('ns', '')} _id {last.get('_id')!r}"
            rolled = f" · rolled back {len(view.rolled_back)}: {what}"
        keys = "p pause/resume · y delay · D step down · V committed view"
        self.border_subtitle = f"commit point {view.commit_point}{rolled} · {keys}"

    def _host(self) -> str | None:
        if self.view is None or not self.view.members or self.view.error:
            return None
        return self.view.members[min(self.cursor_row, len(self.view.members) - 1)].host

    def _act(self, kind: str) -> None:
        host = self._host()
        if host is not None:
            self.post_message(self.Act(kind, host))

    def action_pause_member(self) -> None:
        self._act("pause")

    def action_delay_member(self) -> None:
        self._act("delay")

    def action_step_down(self) -> None:
        self._act("step-down")

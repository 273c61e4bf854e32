"""The workbench's members panel handlers (issue 13 item 5), mixed into WorkbenchScreen:
the panel is mounted on first use (M), polled in a worker while shown, and its keys act
on the highlighted member through backend/members.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.containers import Horizontal

if TYPE_CHECKING:
    from ..backend.workbench import Workbench
    from ..widgets.members import MembersPanel

POLL_EVERY_S = 0.5  # replSetGetStatus while the panel is shown


class MembersHandlers:
    """Needs `self.wb` (the Workbench) and Textual's Screen API."""

    wb: Workbench
    _members_timer: Any = None

    def _members_panel(self) -> MembersPanel | None:
        found = self.query("#members")  # type: ignore[attr-defined]
        return found.first() if found else None  # type: ignore[no-any-return]

    async def action_toggle_members(self) -> None:
        """Show the members panel above the committed panel and timeline, or hide it."""
        if self.wb.client is None:
            self.notify("Not connected yet", severity="warning")  # type: ignore[attr-defined]
            return
        panel = self._members_panel()
        if panel is None:
            from ..widgets.members import MembersPanel

            panel = MembersPanel()
            bottom = self.query_one("#bottom", Horizontal)  # type: ignore[attr-defined]
            await self.mount(panel, before=bottom)  # type: ignore[attr-defined]
        elif panel.display:
            panel.display = False
            if self._members_timer is not None:
                self._members_timer.pause()
            return
        panel.display = True
        panel.focus()
        if self._members_timer is None:
            self._members_timer = self.set_interval(  # type: ignore[attr-defined]
                POLL_EVERY_S, self.poll_members_worker
            )
        else:
            self._members_timer.resume()
        self.poll_members_worker()

    @work(exclusive=True, group="members", exit_on_error=False, description="members")
    async def poll_members_worker(self) -> None:
        if self.wb.client is not None:
            await self.wb.poll_members()

    def _show_members(self) -> None:
        panel = self._members_panel()
        if panel is not None and panel.display and self.wb.members_view is not None:
            panel.show(self.wb.members_view, self.wb.view_member)

    def on_members_panel_act(self, event: MembersPanel.Act) -> None:
        view = self.wb.members_view
        member = view.member(event.host) if view is not None else None
        if member is None:
            return
        if event.kind == "pause":
            if member.state == "PRIMARY":
                self.notify("The primary applies no oplog: pause a secondary")  # type: ignore[attr-defined]
                return
            self._member_act(f"{'resume' if member.paused else 'pause'} {member.host}")
        elif event.kind == "delay":
            from ..widgets.members import DELAYS

            now = member.delay_s or 0.0
            after = next((d for d in DELAYS if d > now), DELAYS[0])
            self._member_act(f"delay {member.host} {after:g}")
        else:
            self._confirm_step_down()

    def _confirm_step_down(self) -> None:
        from .confirm import ConfirmScreen

        primary = self.wb.members_view.primary if self.wb.members_view else None
        where = primary.host if primary is not None else "the primary"
        message = (
            f"replSetStepDown 60 on {where}: it becomes a secondary for 60 s and a caught-up "
            "secondary is elected. Its open transactions are aborted; a lane's next "
            "statement gets an error labelled TransientTransactionError. Force: no waiting "
            "for a secondary to catch up; writes the new primary lacks are rolled back."
        )

        def chosen(choice: str | None) -> None:
            if choice in ("step-down", "force"):
                self._member_act(choice)

        choices = [("step-down", "Step down"), ("force", "Force")]
        self.app.push_screen(  # type: ignore[attr-defined]
            ConfirmScreen("Step the primary down?", message, choices), chosen
        )

    @work(group="member-act", exit_on_error=False, description="member")
    async def _member_act(self, what: str) -> None:
        """Run one control, then say what the server answered, then poll again."""
        from ..backend.operations import error_info

        wb = self.wb
        kind, *args = what.split()
        try:
            if kind in ("pause", "resume"):
                await wb.members.pause(args[0], kind == "pause")
            elif kind == "delay":
                member = wb.members_view.member(args[0]) if wb.members_view else None
                if member is not None:
                    await wb.members.delay(wb.client, member.id, float(args[1]))
            else:
                await wb.members.step_down(wb.client, force=kind == "force")
        except Exception as exc:
            text = error_info(exc, wb.scrub).one_line()
            self.notify(f"{what}: {text}", severity="error")  # type: ignore[attr-defined]
        else:
            done = {"step-down": "the primary stepped down", "force": "the primary stepped down"}
            done = done.get(kind, what)
            self.notify(done)  # type: ignore[attr-defined]
        await wb.poll_members()

    def action_view_member(self) -> None:
        """The committed panel shows the primary's data, then each member's own."""
        if self.wb.members_view is None or len(self.wb.members_view.members) < 2:
            self.notify("One member: press M for the members panel of a set")  # type: ignore[attr-defined]
            return
        host = self.wb.cycle_view_member()
        self.notify(f"committed panel: {host or 'the primary'}")  # type: ignore[attr-defined]
        self._refresh_committed_worker()

    @work(group="member-view", exit_on_error=False, description="member view")
    async def _refresh_committed_worker(self) -> None:
        from ..backend.operations import error_info

        try:
            await self.wb.refresh_committed(0, count_now=True)
        except Exception as exc:
            self.notify(error_info(exc, self.wb.scrub).one_line(), severity="error")  # type: ignore[attr-defined]
        self._show_members()

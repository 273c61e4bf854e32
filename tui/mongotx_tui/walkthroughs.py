"""Scripted walks through the workbench with a Pilot: the trainer's demo, step by step.

Used by the snapshot tests, scripts/screenshots.py and benchmarks/tui_bench.py, so they
all show the same thing. Each walk takes a Pilot of a running MongoTxApp.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


async def until(
    pilot: Any, condition: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.01)
    await pilot.pause()


async def click(pilot: Any, selector: str) -> None:
    """Click a widget of the current screen once it is laid out. Pilot takes the click's
    position from the widget's region before it waits: clicked right after its screen is
    pushed, before the first layout, a button is clicked at the screen's corner and never
    pressed (seen under load as a dialog that never answered)."""

    def placed() -> bool:
        found = pilot.app.screen.query(selector)
        return bool(found) and found.first().region.area > 0

    await until(pilot, placed, what=f"{selector} laid out")
    if not await pilot.click(selector):
        raise AssertionError(f"the click on {selector} landed on another widget")


async def ready(pilot: Any) -> None:
    await until(pilot, lambda: pilot.app.ready_at is not None, 30, "workbench ready")


async def queue_op(pilot: Any, **fields: str) -> None:
    """Open the editor (a), fill fields, queue it (F10)."""
    from .screens.editor import EditorScreen

    await pilot.press("a")
    await until(pilot, lambda: isinstance(pilot.app.screen, EditorScreen), what="editor")
    await fill_editor(pilot, **fields)


async def fill_editor(pilot: Any, kind: str | None = None, **fields: str) -> None:
    """In the open editor: choose `kind` (its form follows), fill fields, queue it (F10)."""
    from textual.widgets import Input, Select, TextArea

    from .screens.editor import EditorScreen

    editor = pilot.app.screen
    if kind is not None:
        editor.query_one("#kind", Select).value = kind
        await until(pilot, lambda: editor.kind.value == kind, what=f"{kind} form")
    for name, text in fields.items():
        widget = editor.query_one(f"#f-{name}")
        if isinstance(widget, TextArea):
            widget.text = text  # posts TextArea.Changed like typing does
        elif isinstance(widget, Input):
            widget.value = text
        await pilot.pause()
    await pilot.press("f10")
    await until(pilot, lambda: not isinstance(pilot.app.screen, EditorScreen), what="closed")


async def conflict(pilot: Any) -> None:
    """A updates alice in a transaction; B tries the same and gets WriteConflict."""
    from .model.lanes import OpStatus

    app = pilot.app
    await ready(pilot)
    a, b = app.wb.lanes[:2]
    await pilot.press("t")
    await queue_op(pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
    await pilot.press("s")
    await until(pilot, lambda: a.view is not None)
    await pilot.press("right_square_bracket", "t")
    await queue_op(pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -20}}")
    await pilot.press("s")
    await until(pilot, lambda: b.queue[0].status is OpStatus.FAILED)
    await pilot.pause(0.1)


async def conflict_then_commit(pilot: Any) -> None:
    from .model.lanes import TxnState

    await conflict(pilot)
    a = pilot.app.wb.lanes[0]
    await pilot.press("left_square_bracket", "c")
    await until(pilot, lambda: a.txn_state is TxnState.COMMITTED)
    await until(pilot, lambda: any(d.get("balance") == 90 for d in pilot.app.wb.page.docs))
    await pilot.pause(0.2)


async def blocked(pilot: Any) -> None:
    """A holds bob in a transaction; B's plain write waits behind it."""
    from .model.lanes import TxnState

    app = pilot.app
    await ready(pilot)
    a, b = app.wb.lanes[:2]
    await pilot.press("t")
    await queue_op(pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 5}}")
    await pilot.press("s")
    await until(pilot, lambda: a.txn_state is TxnState.IN_PROGRESS and a.view is not None)
    await pilot.press("right_square_bracket")
    await queue_op(pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
    await pilot.press("s")
    await until(pilot, lambda: b.queue[0].waiting)
    await pilot.pause(0.3)


async def commit_retried(pilot: Any) -> None:
    """A's commit loses its first reply (a closeConnection fail point): the command monitor
    shows the driver's second attempt."""
    from .model.lanes import OpStatus, TxnState

    app = pilot.app
    await ready(pilot)
    a = app.wb.lanes[0]
    await pilot.press("t")
    await queue_op(pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
    await pilot.press("s")
    await until(pilot, lambda: a.queue[0].status is OpStatus.DONE and a.view is not None)
    await app.wb.client.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": 1},
            "data": {"failCommands": ["commitTransaction"], "closeConnection": True},
        }
    )
    await pilot.press("c")
    await until(pilot, lambda: a.txn_state is TxnState.COMMITTED)
    await pilot.press("m")
    await until(pilot, lambda: app.screen.query("#monitor-lines"))
    await pilot.pause(0.3)


async def invalid_editor(pilot: Any) -> None:
    from textual.widgets import TextArea

    app = pilot.app
    await ready(pilot)
    await pilot.press("a")
    await pilot.pause(0.2)
    field = app.screen.query_one("#f-filter", TextArea)
    field.text = "{_id: ObjectId('zz'),\n balance: }"
    await pilot.pause(0.1)


async def help_screen(pilot: Any) -> None:
    await ready(pilot)
    await pilot.press("f1")
    await pilot.pause(0.2)


async def lane_options(pilot: Any) -> None:
    """O on lane A: its options dialog, with snapshot and retryWrites off chosen."""
    from textual.widgets import Checkbox

    from .screens.lane_options import LaneOptionsScreen

    app = pilot.app
    await ready(pilot)
    await pilot.press("O")
    await until(pilot, lambda: isinstance(app.screen, LaneOptionsScreen), what="lane options")
    app.screen.query_one("#lo-snapshot", Checkbox).value = True
    app.screen.query_one("#lo-retry", Checkbox).value = False
    await pilot.pause(0.2)


async def started(pilot: Any) -> None:
    await ready(pilot)


async def load_scenario(pilot: Any, target: str) -> None:
    """Open the picker (l) and load a built-in by name, or a file by typing its path."""
    from textual.widgets import Input, OptionList

    from .screens.confirm import ConfirmScreen
    from .screens.scenarios import ScenarioPickerScreen

    app = pilot.app
    old = app.wb.play
    asks = app.wb.has_own_work()  # loading over work built by hand asks first
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen))
    screen = app.screen
    listing = screen.query_one("#picker-list", OptionList)
    if "/" in target:
        screen.query_one("#picker-path", Input).value = target
        await pilot.pause()
        await click(pilot, "#load")
    else:
        await until(pilot, lambda: listing.option_count > 2)
        listing.highlighted = listing.get_option_index(target)
        listing.focus()
        await pilot.press("enter")
    if asks:
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await click(pilot, "#choice-load")
    await until(pilot, lambda: app.wb.play is not None and app.wb.play is not old, 20)

    # ...and the load worker done (lanes shown, the new watcher started): a walkthrough
    # that went on at the first sign of the new play raced the rest of the load
    def loading() -> bool:
        return any(w.group == "scenario-load" and not w.is_finished for w in app.workers)

    await until(pilot, lambda: not loading(), 20, "scenario loaded")
    await until(pilot, lambda: app.screen.query("LaneWidget"))


async def next_steps(pilot: Any, count: int) -> None:
    """Press n `count` times; wait until those steps have been checked."""
    play = pilot.app.wb.play
    want = min(play.total, play.position + count)
    for _ in range(count):
        await pilot.press("n")
    await until(pilot, lambda: len(play.checks) >= want, 30)


async def scenario_conflict(pilot: Any) -> None:
    """The write-conflict scenario loaded and stepped to B's WriteConflict (steps 1-4)."""
    app = pilot.app
    await ready(pilot)
    await load_scenario(pilot, "write-conflict")
    # let the committed panel and its change stream settle first: the sessions they free
    # go back to the pool before the lanes take theirs (stable lsids in snapshots)
    await until(pilot, lambda: app.wb.watch_mode and app.wb.page.total is not None)
    await pilot.pause(0.5)
    await next_steps(pilot, 4)
    await until(pilot, lambda: all(lane.view is not None for lane in app.wb.lanes[:1]))
    await pilot.pause(0.2)
    app.clear_notifications()
    await pilot.pause(0.1)


async def server_view(pilot: Any) -> None:
    """The server view with lane A's open transaction, another application's (shop-app, a
    plain pymongo client) and lane B's createIndexes waiting behind A's. For the pictures
    the view then stops reading, and what changes from run to run (the seconds, the other
    client's port) is set to fixed values; the rows, owners and waits stay as read."""
    from dataclasses import replace

    from pymongo import AsyncMongoClient

    from .model.lanes import TxnState
    from .screens.server_view import ServerViewScreen

    app = pilot.app
    await ready(pilot)
    await until(pilot, lambda: app.wb.watch_mode and app.wb.page.total is not None)
    await pilot.pause(0.5)  # the panels' reads give their sessions back first (stable lsids)
    a, b = app.wb.lanes[:2]
    await pilot.press("t")
    await queue_op(pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
    await pilot.press("s")
    await until(pilot, lambda: a.txn_state is TxnState.IN_PROGRESS and a.view is not None)
    other: AsyncMongoClient[Any] = AsyncMongoClient(app.wb.uri, appname="shop-app")
    session = other.start_session()
    await session.start_transaction()
    await other.bank.accounts.insert_one({"_id": "zoe", "balance": 7}, session=session)
    await pilot.press("right_square_bracket", "a")
    await fill_editor(
        pilot,
        kind="command",
        command="{createIndexes: 'accounts', indexes: [{key: {balance: 1}, name: 'balance_1'}]}",
    )
    await pilot.press("s")
    await until(pilot, lambda: b.queue and b.queue[0].waiting, 20, "B's createIndexes waits")
    await pilot.press("S")
    await until(pilot, lambda: isinstance(app.screen, ServerViewScreen), what="server view")
    screen = app.screen
    await until(pilot, lambda: len(screen.view.txns) == 2 and screen.view.waiting, 20, "rows")
    screen.refresher.pause()
    reading = [w for w in app.workers if w.group == "server-view" and not w.is_finished]
    await until(pilot, lambda: all(w.is_finished for w in reading), what="the last read")
    view = screen.view
    view.waiting = [replace(w, secs=3) for w in view.waiting]
    view.txns = [
        replace(
            t,
            open_s=4.2 if t.lane else 3.1,
            left_s=55.8 if t.lane else 56.9,
            client="127.0.0.1:50001" if not t.lane else t.client.split(":")[0] + ":50000",
            waiting=tuple(replace(w, secs=3) for w in t.waiting),
        )
        for t in view.txns
    ]
    screen._show()
    await other.close()  # ends its session: the frozen view still shows it
    app.clear_notifications()
    await pilot.pause(0.2)


async def presenter_conflict(pilot: Any) -> None:
    """Presenter mode (P), then the write conflict: its caption, once the highlight of what
    changed has faded (issue 14 item 3)."""
    app = pilot.app
    await ready(pilot)
    await pilot.press("P")
    await until(pilot, lambda: app.screen.has_class("-present"), what="presenter mode")
    await conflict(pilot)
    caption = app.screen.query_one("#caption")
    await until(pilot, lambda: "conflicted" in str(caption.render()), what="the caption")
    await until(pilot, lambda: not app.screen.query(".-changed"), 30, "the highlight's fade")
    await pilot.pause(0.1)


async def members_paused(pilot: Any) -> None:
    """On a 3-member sandbox: the members panel (M), member 1's replication paused (p)."""
    from .widgets.members import MembersPanel

    app = pilot.app
    await ready(pilot)
    await pilot.press("M")
    await until(pilot, lambda: app.screen.query(MembersPanel), what="members panel")
    panel = app.screen.query_one(MembersPanel)
    await until(pilot, lambda: panel.row_count == 3, 20, "three members")
    panel.move_cursor(row=1)
    await pilot.press("p")

    def paused() -> bool:
        view = app.wb.members_view
        return view is not None and view.members[1].paused is True

    await until(pilot, paused, 20, "member 1 paused")
    await until(pilot, lambda: "paused" in str(panel.get_row_at(1)), what="shown paused")
    app.clear_notifications()
    await pilot.pause(0.2)


async def lanes_demo(pilot: Any, count: int) -> None:
    """`count` lanes at once (issue 14): A and B change alice and bob in transactions, C's
    update of alice conflicts with A's, D has one operation queued; the rest stay idle.
    Ends on lane A, the others compact when the width is short."""
    from .model.lanes import OpStatus

    app = pilot.app
    await ready(pilot)
    await until(pilot, lambda: app.wb.watch_mode and app.wb.page.total is not None)
    await pilot.pause(0.5)  # the panels' reads give their sessions back first (stable lsids)
    while len(app.wb.lanes) < count:
        have = len(app.wb.lanes)
        await pilot.press("plus")
        await until(pilot, lambda n=have: len(app.screen.query("LaneWidget")) > n, what="lane")
    lanes = app.wb.lanes
    if app.screen.active_lane_id != lanes[0].id:
        await pilot.press("right_square_bracket")  # from the last lane added back to A
    await until(pilot, lambda: app.screen.active_lane_id == lanes[0].id, what="lane A")
    changes = [("alice", -10), ("bob", 25), ("alice", -20)]
    for i, (who, delta) in enumerate(changes[: min(3, count)]):
        lane = lanes[i]
        if i:
            await pilot.press("right_square_bracket")
        await pilot.press("t")
        await queue_op(pilot, filter=f"{{_id: '{who}'}}", update=f"{{$inc: {{balance: {delta}}}}}")
        await pilot.press("s")
        await until(pilot, lambda x=lane: x.queue[0].status is not OpStatus.PENDING, what="step")
        await until(pilot, lambda x=lane: x.queue[0].status is not OpStatus.RUNNING, what="done")
        if lane.queue[0].status is OpStatus.DONE:
            await until(pilot, lambda x=lane: x.view is not None, what="its view")
    if count >= 4:
        await pilot.press("right_square_bracket")
        await queue_op(pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
    while app.screen.active_lane_id != lanes[0].id:
        await pilot.press("right_square_bracket")
    await pilot.pause(0.3)
    app.clear_notifications()
    await pilot.pause(0.1)


async def four_lanes(pilot: Any) -> None:
    """lanes_demo with four lanes: the README's picture of every lane at once."""
    await lanes_demo(pilot, 4)

"""Issue 14 item 1: every lane at once, the maximise key, and the queue following the
item that runs. The real app and sandbox, Pilot keys."""

from __future__ import annotations

from textual.containers import VerticalScroll
from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.model.ops import OpSpec
from mongotx_tui.widgets.lane import LaneWidget
from mongotx_tui.widgets.lane_row import LaneRow


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


def lane_widgets(app: MongoTxApp) -> list[LaneWidget]:
    return list(app.screen.query(LaneWidget))


def item_shown(widget: LaneWidget, index: int) -> bool:
    """Queue item `index` lies inside the part of the lane's body on screen."""
    body = widget.query_one(".lane-body", VerticalScroll)
    span = widget.item_span(index)
    assert span is not None
    top, lines = span
    window = body.scrollable_content_region.height
    return body.scroll_y <= top and top + lines <= body.scroll_y + window


async def add_lanes(pilot, app: MongoTxApp, count: int) -> None:
    while len(app.wb.lanes) < count:
        have = len(app.wb.lanes)
        await pilot.press("plus")
        await until(pilot, lambda n=have: len(lane_widgets(app)) > n, what="lane mounted")
    await pilot.pause(0.1)


async def test_four_lanes_share_120_columns_and_z_maximises_the_current_one():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await add_lanes(pilot, app, 4)
        row = app.screen.query_one(LaneRow)
        widgets = lane_widgets(app)
        current = next(w for w in widgets if w.lane.id == app.screen.active_lane_id)
        # every lane on screen, side by side, within the row; the current one full
        assert all(w.display and w.region.width > 0 for w in widgets)
        assert sum(w.region.width for w in widgets) == row.region.width
        assert all(row.region.contains_region(w.region) for w in widgets)
        assert not current.has_class("-compact")
        assert all(w.has_class("-compact") for w in widgets if w is not current)

        await pilot.press("z")
        await pilot.pause(0.1)
        assert [w for w in widgets if w.display] == [current]
        assert current.region.width == row.region.width

        await pilot.press("right_square_bracket")  # the next lane, maximised in its turn
        await pilot.pause(0.1)
        shown = [w for w in widgets if w.display]
        assert len(shown) == 1 and shown[0] is not current
        assert shown[0].lane.id == app.screen.active_lane_id

        await pilot.press("z")  # every lane again
        await pilot.pause(0.1)
        assert all(w.display and w.region.width > 0 for w in widgets)
        assert sum(w.region.width for w in widgets) == row.region.width


async def test_clicking_a_compact_lane_makes_it_current_and_full():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await add_lanes(pilot, app, 4)
        first = lane_widgets(app)[0]
        assert first.has_class("-compact")
        await pilot.click(first)
        await until(pilot, lambda: app.screen.active_lane_id == first.lane.id, what="current")
        await pilot.pause(0.1)
        assert not first.has_class("-compact")
        assert app.focused is first.queue


async def test_the_queue_follows_new_items_and_the_one_that_runs():
    """A short lane with a long queue: each new item and each item that starts running is
    highlighted and scrolled into the lane's body (its one scroller)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes
        # A holds bob in a transaction: B's update of bob will wait behind it
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 5}}")
        await pilot.press("s")
        await until(pilot, lambda: a.txn_state is TxnState.IN_PROGRESS and a.view is not None)
        await pilot.press("right_square_bracket")
        widget = next(w for w in lane_widgets(app) if w.lane.id == b.id)
        for i in range(14):
            app.wb.enqueue(b.id, OpSpec.new("find", filter=f"{{_id: 'x{i}'}}"))
            await until(pilot, lambda n=i: widget.queue.highlighted == n, what=f"new item {i}")
            await until(pilot, lambda n=i: item_shown(widget, n), what=f"item {i} shown")
        body = widget.query_one(".lane-body", VerticalScroll)
        assert body.scroll_y > 0  # the queue is taller than the lane: it scrolled
        body.scroll_home(animate=False)
        await pilot.pause()
        await queue_op(
            app, pilot, kind="update", filter="{_id: 'bob'}", update="{$inc: {balance: 1}}"
        )
        await pilot.press("r")  # the rest: the finds run, the update waits behind A
        await until(pilot, lambda: b.queue[-1].waiting, what="B's update waits")
        last = len(b.queue) - 1
        assert b.queue[last].status is OpStatus.RUNNING
        await until(pilot, lambda: widget.queue.highlighted == last, what="highlighted")
        await until(pilot, lambda: item_shown(widget, last), what="the running item shown")
        await pilot.press("left_square_bracket", "x")  # release it
        await until(pilot, lambda: b.queue[last].status is OpStatus.DONE, what="B's update")


async def test_a_changed_document_shows_its_fields_old_and_new_first():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(
            app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}, $set: {vip: true}}"
        )
        await pilot.press("s")
        await until(pilot, lambda: a.view is not None, what="A's view")
        widget = lane_widgets(app)[0]
        await until(pilot, lambda: "~" in str(widget.query_one(".lane-view").render()))
        lines = str(widget.query_one(".lane-view").render()).splitlines()
        assert lines[0] == "inside txn: 1 differ from committed"
        shown = " ".join(" ".join(lines[1:]).split())
        assert shown.startswith("~ 'alice' balance: 100 → 90")
        assert "+vip: true" in shown


async def test_a_running_lane_says_so_in_its_border_until_it_is_done():
    """The border's 'running …' is coloured by itself (a class toggled every step restyled
    the whole lane, tui_bench) and goes when the step ends."""
    from mongotx_tui import walkthroughs

    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.blocked(pilot)
        b = app.wb.lanes[1]
        widget = app.screen.query_one(f"#lane-{b.id}", LaneWidget)
        subtitle = str(widget.border_subtitle)
        assert "running" in subtitle and "$warning" in subtitle
        await pilot.press("left_square_bracket", "c")  # A commits: B's write goes through
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE, what="B's write")
        await until(pilot, lambda: not widget.border_subtitle, what="B's border")

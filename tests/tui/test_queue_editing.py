"""Queued operations can be duplicated, reordered, deleted and edited (keys on the queue)."""

from __future__ import annotations

from textual.widgets import TextArea
from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.editor import EditorScreen
from mongotx_tui.widgets.lane import QueueList


def filters(lane) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.spec.texts["filter"] for item in lane.queue]


async def test_duplicate_move_delete_edit() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        lane = app.wb.lanes[0]
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 2}}")
        assert filters(lane) == ["{_id: 'alice'}", "{_id: 'bob'}"]

        queue = app.screen.query(QueueList).first()
        queue.focus()
        queue.highlighted = 0
        await pilot.press("d")
        await until(pilot, lambda: len(lane.queue) == 3, what="duplicate")
        assert filters(lane) == ["{_id: 'alice'}", "{_id: 'alice'}", "{_id: 'bob'}"]

        queue.highlighted = 2
        await pilot.press("shift+up")
        await until(pilot, lambda: filters(lane)[1] == "{_id: 'bob'}", what="move up")
        assert filters(lane) == ["{_id: 'alice'}", "{_id: 'bob'}", "{_id: 'alice'}"]

        queue.highlighted = 0
        await pilot.press("delete")
        await until(pilot, lambda: len(lane.queue) == 2, what="delete")
        assert filters(lane) == ["{_id: 'bob'}", "{_id: 'alice'}"]

        queue.highlighted = 0
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), what="editor")
        field = app.screen.query_one("#f-filter", TextArea)
        assert field.text == "{_id: 'bob'}"  # the item's own text, kept as typed
        field.text = "{_id: 'carol'}"
        await pilot.pause()
        await pilot.press("f10")
        await until(pilot, lambda: not isinstance(app.screen, EditorScreen), what="editor closed")
        assert filters(lane) == ["{_id: 'carol'}", "{_id: 'alice'}"]

"""Rename and recolour a lane (N), list a lane's view and open a document (v), switch the
watched collection (W). The real app on the real embedded sandbox; keys pressed with a
Pilot. No mocks."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList
from tuihelpers import click, committed_values, queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.scenario.loader import load_scenario
from mongotx_tui.screens.dialogs import DocumentScreen
from mongotx_tui.screens.editor import EditorScreen
from mongotx_tui.screens.rename import RenameLaneScreen
from mongotx_tui.screens.viewdocs import LaneDocsScreen
from mongotx_tui.screens.watch import WatchScreen
from mongotx_tui.screens.workbench_screen import WorkbenchScreen
from mongotx_tui.widgets.lane import LaneWidget
from mongotx_tui.widgets.timeline import TimelineTable


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


def shown(widget: Widget) -> str:
    """What a widget shows on screen, as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text.rstrip() for strip in widget.render_lines(region))


def timeline_rows(app: MongoTxApp) -> list[dict[str, Text]]:
    """The timeline's rows as {column key: cell} (its columns depend on its width)."""
    table = app.screen.query_one(TimelineTable)
    keys = [str(column.key.value) for column in table.ordered_columns]
    return [
        {k: c if isinstance(c, Text) else Text(str(c)) for k, c in zip(keys, row, strict=True)}
        for row in map(table.get_row_at, range(table.row_count))
    ]


def toasts(app: MongoTxApp) -> list[str]:
    from textual.widgets._toast import Toast

    return [str(toast.render()) for toast in app.screen.query(Toast)]


def options(listing: OptionList) -> list[str]:
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def queue_kind(app: MongoTxApp, pilot, kind: str, **fields: str) -> None:
    """Open the editor (a), choose the kind, fill its fields, queue it (F10)."""
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, EditorScreen), what="editor")
    assert app.screen.query_one("#collection", Input).value == app.wb.collection  # watched
    await walkthroughs.fill_editor(pilot, kind, **fields)


def test_name_rules_say_what_is_wrong():
    from mongotx_tui.model.naming import collection_problem, database_problem, lane_name_problem

    assert lane_name_problem(" Alice ", ["B"]) is None
    assert lane_name_problem("", ["B"]) == "a lane needs a name"
    assert lane_name_problem("b", ["B"]) == "another lane is called B"
    assert "at most 12" in (lane_name_problem("x" * 13, []) or "")
    assert "outside a session" in (lane_name_problem("A-out", []) or "")
    assert "change events" in (lane_name_problem("server", []) or "")
    assert database_problem("shop") is None and collection_problem("orders", "shop") is None
    assert database_problem("") == "type a database name"
    assert database_problem('a.b "c') == "a database name can't contain space \" ."
    assert collection_problem("a$b") == "a collection name can't contain $"
    assert collection_problem("a\0b") == "a collection name can't contain NUL"
    assert "255 bytes" in (collection_problem("c" * 251, "shop") or "")


async def test_rename_and_recolour_a_lane_shows_everywhere_and_is_saved():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")  # a step under the old name: the draft must follow the rename
        await until(pilot, lambda: a.txn_state is TxnState.STARTING)

        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, RenameLaneScreen), what="dialog")
        dialog = app.screen
        name = dialog.query_one("#lane-name", Input)
        assert name.value == "A" and name.has_focus
        name.value = ""
        await pilot.press("b")  # lane B's name, in another case
        error = dialog.query_one("#lane-name-error")
        assert "another lane is called B" in shown(error)
        assert name.has_class("-invalid")
        assert dialog.query_one("#apply", Button).disabled
        await pilot.press("f10")  # refused: nothing applied, nothing typed lost
        await pilot.pause()
        assert app.screen is dialog and name.value == "b" and a.name == "A"
        await pilot.press(*"0123456789ab")
        assert "at most 12 characters (13 now)" in shown(error)
        assert name.value == "b0123456789ab"

        name.value = ""
        await pilot.press(*"Alice")
        assert shown(error).strip() == "" and not name.has_class("-invalid")
        await click(pilot, "#colour-green")
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, WorkbenchScreen), what="applied")
        await pilot.pause(0.1)

        assert (a.name, a.colour) == ("Alice", "green")
        widget = app.screen.query_one(f"#lane-{a.id}", LaneWidget)
        assert str(widget.border_title).startswith("Lane Alice ·")
        assert widget.has_class("lane-green") and not widget.has_class("lane-cyan")
        rows = timeline_rows(app)
        lane_cell = rows[-1]["lane"]
        assert lane_cell.plain == "Alice" and "green" in str(lane_cell.style)
        assert rows[-1]["outcome"].plain == "A → Alice, green"
        started = next(r for r in rows if "startTransaction" in r["what"].plain)
        assert started["lane"].plain == "A" and "cyan" in str(started["lane"].style)  # as shown

        # The lane's next rows carry its new name and colour; so does the draft.
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="step")
        step_row = next(r for r in timeline_rows(app) if "{_id: 'bob'}" in r["what"].plain)
        assert step_row["lane"].plain == "Alice" and "green" in str(step_row["lane"].style)
        drafts = Path(os.environ["MONGOTX_TUI_DATA_DIR"]) / "drafts"

        def draft_sessions() -> list[str | None]:
            paths = list(drafts.glob("draft-*.yaml"))
            return [s.session for s in load_scenario(paths[0]).steps] if paths else []

        await until(pilot, lambda: draft_sessions() == ["Alice", "Alice"], what="draft renamed")
        draft = load_scenario(next(drafts.glob("draft-*.yaml")))
        assert [s.name for s in draft.sessions] == ["Alice", "B"]


async def test_view_docs_lists_the_transactions_documents_and_opens_one_in_full():
    app = make_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("v")  # no transaction: said so, no dialog
        await until(pilot, lambda: toasts(app), what="notification")
        assert "no transaction: this session reads the committed state" in toasts(app)[-1]
        assert isinstance(app.screen, WorkbenchScreen)
        app.clear_notifications()
        await pilot.press("t")
        await until(pilot, lambda: a.txn_state is TxnState.STARTING, what="started")
        await pilot.press("v")  # started, but nothing sent: no snapshot yet
        await until(pilot, lambda: toasts(app), what="notification")
        assert "view opens after the first statement" in toasts(app)[-1]
        assert isinstance(app.screen, WorkbenchScreen)

        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
        await queue_kind(app, pilot, "insert", document="{_id: 'carol', balance: 7}")
        await queue_kind(app, pilot, "delete", filter="{_id: 'bob'}")
        await pilot.press("r")
        await until(pilot, lambda: all(i.status is OpStatus.DONE for i in a.queue), what="ops")
        await until(pilot, lambda: a.view is not None and len(a.view) == 2, what="A's view")

        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, LaneDocsScreen), what="list")
        listing = app.screen.query_one("#view-list", OptionList)
        rows = options(listing)
        assert rows[0].startswith("~ changed  'alice' {name: 'Alice', balance: 90}")
        assert rows[1].startswith("+ inserted 'carol' {balance: 7}")
        assert rows[2].startswith("- deleted  'bob' {name: 'Bob', balance: 50}")
        assert "Lane A reads in its transaction: bank.accounts" in shown(
            app.screen.query_one(".dialog-title")
        )

        await pilot.press("enter")  # alice: the session's version, then the committed one
        await until(pilot, lambda: isinstance(app.screen, DocumentScreen), what="document")
        doc = app.screen
        title = shown(doc.query_one(".dialog-title"))
        assert "bank.accounts _id" in title and "lane A's version (changed)" in title
        assert '"balance": 90' in shown(doc.query_one("#doc-json"))
        assert '"balance": 100' in shown(doc.query_one("#doc-compare"))
        await pilot.press("y")
        await pilot.pause()
        assert '"balance": 90' in app.clipboard and '"balance": 100' not in app.clipboard

        await pilot.press("escape")  # back to the list, then the deleted one
        await until(pilot, lambda: isinstance(app.screen, LaneDocsScreen))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, DocumentScreen), what="document")
        title = shown(app.screen.query_one(".dialog-title"))
        assert "deleted by lane A: the committed version" in title
        assert '"_id": "bob"' in shown(app.screen.query_one("#doc-json"))
        assert not app.screen.query("#doc-compare")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, WorkbenchScreen), what="closed")


async def test_watch_another_collection_then_come_back():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
        await pilot.press("s")
        await until(pilot, lambda: a.view is not None, what="A's view")

        await pilot.press("W")
        await until(pilot, lambda: isinstance(app.screen, WatchScreen), what="dialog")
        dialog = app.screen
        db, coll = dialog.query_one("#watch-db", Input), dialog.query_one("#watch-coll", Input)
        assert (db.value, coll.value) == ("bank", "accounts")
        listing = dialog.query_one("#watch-list", OptionList)
        await until(pilot, lambda: "bank.accounts" in options(listing), what="listed")
        db.value = "sh op"
        coll.value = "a$b"
        await pilot.pause()
        assert "a database name can't contain space" in shown(dialog.query_one("#watch-db-error"))
        assert "can't contain $" in shown(dialog.query_one("#watch-coll-error"))
        assert db.has_class("-invalid") and coll.has_class("-invalid")
        assert dialog.query_one("#apply", Button).disabled
        await pilot.press("f10")  # refused, and what was typed stays
        await pilot.pause()
        assert app.screen is dialog and (db.value, coll.value) == ("sh op", "a$b")
        db.value, coll.value = "shop", "orders"
        await pilot.pause()
        assert "no such collection yet" in shown(dialog.query_one("#watch-note"))
        await pilot.press("f10")

        panel = app.screen.query_one("#committed")
        await until(pilot, lambda: panel.border_title == "Committed shop.orders", what="switched")
        await until(pilot, lambda: "change stream" in str(panel.border_subtitle), what="stream")
        assert committed_values(app) == {}
        rows = timeline_rows(app)
        switched_at = next(i for i, r in enumerate(rows) if r["what"].plain.startswith("watch"))
        assert rows[switched_at]["what"].plain == "watch shop.orders (was bank.accounts)"
        assert rows[switched_at]["outcome"].plain == "watching shop.orders"
        lane_a = app.screen.query_one(f"#lane-{a.id}", LaneWidget)
        await until(pilot, lambda: a.view == [], what="A's view re-read in shop.orders")
        assert "alice" not in shown(lane_a.query_one(".lane-view"))

        # A commits its bank.accounts write: no longer watched, so no change row for it.
        await pilot.press("c")
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")
        # Lane B's insert runs in the watched database; the new stream pushes it.
        await pilot.press("right_square_bracket")
        await queue_kind(app, pilot, "insert", document="{_id: 'o1', item: 'tea'}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE, what="B's insert")
        await until(pilot, lambda: "'o1'" in committed_values(app), what="o1 pushed")
        assert committed_values(app)["'o1'"] == "{item: 'tea'}"
        after = timeline_rows(app)[switched_at + 1 :]
        changes = [r["outcome"].plain for r in after if r["lane"].plain == "db"]
        assert 'insert "o1"' in changes
        assert not any("alice" in c for c in changes)

        # Back to bank.accounts by picking it from the list.
        await pilot.press("W")
        await until(pilot, lambda: isinstance(app.screen, WatchScreen), what="dialog")
        listing = app.screen.query_one("#watch-list", OptionList)
        await until(pilot, lambda: "shop.orders" in options(listing), what="listed")
        listing.focus()
        listing.highlighted = options(listing).index("bank.accounts")
        await pilot.press("enter")
        await until(pilot, lambda: panel.border_title == "Committed bank.accounts", what="back")
        await until(pilot, lambda: "'alice'" in committed_values(app), what="accounts page")
        assert committed_values(app)["'alice'"] == "{name: 'Alice', balance: 90}"
        assert (app.wb.db, app.wb.collection) == ("bank", "accounts")


async def test_a_loaded_scenarios_lanes_can_be_recoloured_not_renamed():
    from mongotx_tui import walkthroughs

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "write-conflict")
        a = app.wb.lanes[0]
        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, RenameLaneScreen), what="dialog")
        dialog = app.screen
        assert dialog.query_one("#lane-name", Input).disabled
        assert "named by the loaded scenario" in shown(dialog.query_one("#lane-name-note"))
        await click(pilot, "#colour-yellow")
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, WorkbenchScreen), what="applied")
        await pilot.pause(0.1)
        assert (a.name, a.colour) == ("A", "yellow")
        widget = app.screen.query_one(f"#lane-{a.id}", LaneWidget)
        assert widget.has_class("lane-yellow") and not widget.has_class("lane-cyan")
        assert timeline_rows(app)[-1]["outcome"].plain == "cyan → yellow"

        # Its steps run in the scenario's database: the watch dialog keeps to it.
        await pilot.press("W")
        await until(pilot, lambda: isinstance(app.screen, WatchScreen), what="dialog")
        app.screen.query_one("#watch-db", Input).value = "shop"
        await pilot.pause()
        assert "the loaded scenario runs in bank" in shown(app.screen.query_one("#watch-db-error"))
        assert app.screen.query_one("#apply", Button).disabled

"""The operation editor switches kinds without removing widgets from a live screen.

Issue 9: switching kinds used to remove the form's fields and mount new ones; a paint
between the removal and the next layout rendered a pruned TextArea (its component styles
cleared) and raised KeyError 'text-area--gutter'. Pilot.pause paints the screen as the
app's update timer does, so pausing right after each switch, for a few different lengths,
hits that window. It failed every run before the fix.
"""

from __future__ import annotations

from textual.widgets import Select, TextArea
from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.ops import FIELDS, OpKind
from mongotx_tui.screens.editor import EditorScreen


def shown_fields(editor: EditorScreen) -> list[str]:
    """The fields on show, top to bottom."""
    box = editor.query_one("#fields")
    return [
        field.id.removeprefix("f-")
        for field in box.query("*")
        if field.id and field.id.startswith("f-") and field.display and field.parent.display
    ]


async def switch_every_kind(app: MongoTxApp, pilot, delay: float) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, EditorScreen), what="editor")
    editor = app.screen
    assert isinstance(editor, EditorScreen)
    editor.query_one("#f-filter", TextArea).text = "{_id: 'kept'}"
    for kind in OpKind:
        editor.query_one("#kind", Select).value = kind.value
        await pilot.pause(delay)  # paints between the switch and its layout
        await until(pilot, lambda k=kind: editor.kind is k, what=kind.value)
        assert shown_fields(editor) == list(FIELDS[kind]), kind
        focused = app.focused
        assert focused is not None and focused.id == f"f-{FIELDS[kind][0]}"
    # what was typed for one kind is there when a kind with that field comes back
    editor.query_one("#kind", Select).value = OpKind.DELETE.value
    await until(pilot, lambda: editor.kind is OpKind.DELETE, what="delete")
    assert editor.query_one("#f-filter", TextArea).text == "{_id: 'kept'}"
    assert editor.spec().texts == {"filter": "{_id: 'kept'}"}
    editor.action_cancel()
    await until(pilot, lambda: not isinstance(app.screen, EditorScreen), what="closed")


async def test_every_kind_shows_its_own_fields_and_typed_text_survives() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        for delay in (0, 0.001, 0.002, 0.003):
            await switch_every_kind(app, pilot, delay)

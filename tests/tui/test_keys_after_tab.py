"""What is typed right after Tab lands in the field Tab moved to, even when the app reads
the keys together (a busy app on a slow machine, or a browser tab of `mongotx-tui serve`
whose keys arrive in one read). Real app, real sandbox."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, OptionList
from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.scenarios import ScenarioPickerScreen

KEY_NAMES = {"\t": "tab", "/": "slash", ".": "full_stop"}


def arrive_together(app: MongoTxApp, text: str) -> None:
    """Queue one Key per character before the app handles any of them, as the terminal
    driver does with the keys of one read."""
    for char in text:
        app.post_message(events.Key(KEY_NAMES.get(char, char), char))


async def test_keys_typed_after_tab_go_to_the_next_field_of_the_load_dialog() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen), what="dialog")
        picker = app.screen
        listing = picker.query_one("#picker-list", OptionList)
        await until(pilot, lambda: listing.option_count > 1, what="the library listed")
        await until(pilot, lambda: picker.focused is listing, what="the list focused")
        field = picker.query_one("#picker-path", Input)

        arrive_together(app, "\t/etc/passwd")
        await until(pilot, lambda: field.value == "/etc/passwd", what="the typed path in the field")
        assert picker.focused is field

        # and back: shift+tab, then a key the list takes (down), reach the list
        field.value = ""
        highlighted = listing.highlighted
        app.post_message(events.Key("shift+tab", None))
        app.post_message(events.Key("down", None))
        await until(pilot, lambda: listing.highlighted != highlighted, what="the list moved")
        assert picker.focused is listing
        assert field.value == ""

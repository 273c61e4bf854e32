"""Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer


class StableFooter(Footer):
    """Textual rebuilds its Footer (every key a new widget, each styled anew) whenever the
    screen's bindings may have changed: each focus change and each screen resume, even
    when the keys shown stay the same. At start-up that was three identical rebuilds,
    ~8 ms each; this one skips a rebuild that would show what is already there."""

    _shown: tuple[Any, ...] | None = None

    def __init__(self) -> None:
        super().__init__()
        # Compose the keys with the screen rather than after its first paint (Textual waits
        # for a bindings signal first, then lays the screen out again for the keys).
        self.set_reactive(Footer._bindings_ready, True)

    def compose(self) -> ComposeResult:
        self._shown = self._keys()
        yield from super().compose()

    def _keys(self) -> tuple[Any, ...]:
        """What compose() would show: the shown bindings and the command palette's key."""
        active = self.screen.active_bindings
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        shown = tuple(
            (b.key, b.key_display, b.description, b.tooltip, b.group, enabled, tooltip)
            for _, b, enabled, tooltip in active.values()
            if b.show
        )
        palette_key = palette and palette[1:]
        return (*shown, palette_key, self.app.ENABLE_COMMAND_PALETTE, self.show_command_palette)

    async def recompose(self) -> None:
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await super().recompose()

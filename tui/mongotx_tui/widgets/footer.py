"""The footer: the screen's shown keys as one line of clickable labels."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

KEY_STYLE = "bold $footer-key-foreground on $footer-key-background"
DESCRIPTION_STYLE = "$footer-description-foreground on $footer-description-background"


class KeyFooter(Static):
    """Shows what Textual's Footer shows (each shown binding's key and description, dimmed
    when its action is disabled, and the command palette's key on the right); a click runs
    the key. One widget instead of Textual's widget per key: those nine widgets, rebuilt on
    every focus change, cost ~14 ms of the workbench's first paint."""

    ALLOW_SELECT = False

    def __init__(self) -> None:
        super().__init__(id="footer", markup=False)
        # Each label keeps its own key and description colours: no link restyling.
        self.set_reactive(Static.auto_links, False)
        self._shown: tuple[Any, ...] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._show()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self, _: events.Resize) -> None:
        self._show()  # the palette key is right-aligned to the width

    def _bindings_changed(self, _: Screen[Any]) -> None:
        self._show()

    def _keys(self) -> tuple[Any, ...]:
        """(key, display, description, enabled) per action shown, the palette's key if any,
        then whether there is one and the width (what the line depends on)."""
        app, active = self.app, self.screen.active_bindings
        seen: set[str] = set()
        keys: list[tuple[str, str, str, bool]] = []
        for _, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in seen:  # one label per action
                seen.add(binding.action)
                keys.append(
                    (binding.key, app.get_key_display(binding), binding.description, enabled)
                )
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        if palette is not None and app.ENABLE_COMMAND_PALETTE:
            _, binding, enabled, _tooltip = palette
            keys.append((binding.key, app.get_key_display(binding), binding.description, enabled))
        return (*keys, palette is not None and app.ENABLE_COMMAND_PALETTE, self.size.width)

    def _show(self) -> None:
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        *labels, has_palette, width = keys
        right = [labels.pop()] if has_palette else []
        left = Content(" ").join(self._label(*label) for label in labels)
        if right:
            palette = self._label(*right[0])
            gap = max(1, width - left.cell_length - palette.cell_length)
            left = Content.assemble(left, " " * gap, palette)
        self.update(left)

    @staticmethod
    def _label(key: str, display: str, description: str, enabled: bool) -> Content:
        label = Content.assemble(
            (f" {display} ", KEY_STYLE), (f"{description} ", DESCRIPTION_STYLE)
        )
        if not enabled:
            label = label.stylize("dim")
        # Quoting: Textual's action parser reads the argument as a Python literal.
        return label.stylize(f"@click=app.simulate_key({key!r})")

"""The operation editor: a form per kind. Invalid fields are flagged in place (line and
column) and the operation can't be queued; switching kinds never loses what was typed."""

from __future__ import annotations

import itertools

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from ..model.op_options import HINTS as OPTION_HINTS
from ..model.op_options import OPTION_NAMES
from ..model.ops import DEFAULTS, FIELDS, PLAIN, SWITCHES, OpKind, OpSpec
from . import DIALOGS_CSS

# Every field of every kind, once (a kind's own order is restored when it is shown).
FORM_ORDER = tuple(dict.fromkeys(name for kind in OpKind for name in FIELDS[kind]))

HINTS = {
    "filter": "filter, e.g. {_id: 'alice'}",
    "update": "update, e.g. {$inc: {balance: -10}}",
    "document": "document, e.g. {_id: 'carol', balance: NumberDecimal('10.50')}",
    "documents": "documents, e.g. [{_id: 1}, {_id: 2}]",
    "replacement": "replacement document",
    "pipeline": "pipeline, e.g. [{$match: {balance: {$gt: 60}}}]",
    "command": "command document, e.g. {ping: 1}",
    "database": "database to run it on (empty: the watched one; admin commands need admin)",
    "projection": "projection (optional), e.g. {balance: 1}",
    "sort": "sort (optional), e.g. {balance: -1}",
    "limit": "limit (optional)",
    "key": "field name",
    "upsert": "upsert",
    "after": "return the document after the change",
    **OPTION_HINTS,
}


class EditorScreen(ModalScreen[OpSpec | None]):
    CSS_PATH = DIALOGS_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="editor-cancel"),
        Binding("f10", "queue", "Queue", id="editor-queue"),
    ]

    def __init__(
        self,
        lane_name: str,
        spec: OpSpec | None = None,
        title: str = "",
        collection: str = "accounts",
    ) -> None:
        """`collection`: where a new operation (no `spec`) goes, the watched one."""
        super().__init__()
        self.lane_name = lane_name
        self.original = spec
        self.kind = spec.kind if spec else OpKind.UPDATE
        self.collection = spec.collection if spec else collection
        # Every text typed for any kind, so switching kinds keeps it.
        self.texts: dict[str, str] = dict(DEFAULTS)
        self.texts.update({"upsert": "false", "after": "true"})
        if spec is None:
            self.texts["filter"] = "{_id: 'alice'}"
            self.texts["update"] = "{$inc: {balance: -10}}"
        else:
            self.texts.update(spec.texts)
        self.title_text = title or (
            "Edit operation" if spec else f"New operation in lane {lane_name}"
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label(self.title_text, id="editor-title")
            with Horizontal(id="editor-top"):
                yield Select(
                    [(k.value, k.value) for k in OpKind],
                    value=self.kind.value,
                    allow_blank=False,
                    id="kind",
                )
                yield Input(self.collection, placeholder="collection", id="collection")
            with VerticalScroll(id="fields"):
                # Every kind's fields exist once, for the whole life of the dialog; a kind
                # shows its own (see _show_kind). Removing and mounting fields on a kind
                # switch left the removed TextAreas in the compositor's map until the next
                # layout, and a paint in that window rendered a pruned TextArea, whose
                # component styles are gone: KeyError 'text-area--gutter' (issue 9).
                for name in FORM_ORDER:
                    yield self._field(name)
            yield Static("", id="editor-status", markup=False)
            with Horizontal(id="editor-buttons"):
                yield Button("Queue (F10)", variant="primary", id="queue")
                yield Button("Cancel (Esc)", id="cancel")

    def _field(self, name: str) -> Widget:
        """One field's group: its hint, its input and its error line."""
        hint = Label(HINTS.get(name, name), classes="field-label")
        if name in SWITCHES:
            switch = Switch(self.texts.get(name) == "true", id=f"f-{name}")
            return Horizontal(switch, hint, id=f"g-{name}", classes="switch-row")
        field: Widget
        if name in PLAIN:
            field = Input(self.texts.get(name, ""), id=f"f-{name}", classes="field")
        else:
            field = TextArea(
                self.texts.get(name, ""),
                id=f"f-{name}",
                classes="field literal",
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
            )
            field.cursor_blink = not self.app.is_headless
        error = Static("", id=f"e-{name}", classes="field-error", markup=False)
        return Vertical(hint, field, error, id=f"g-{name}", classes="field-group")

    def on_mount(self) -> None:
        self._show_kind()

    def _show_kind(self) -> None:
        """Show the current kind's fields, in its order, and focus the first."""
        fields = FIELDS[self.kind]
        box = self.query_one("#fields", VerticalScroll)
        for group in box.children:
            group.display = (group.id or "g-").removeprefix("g-") in fields
        # Kinds list shared fields in different orders (distinct: key, then filter).
        for before, after in itertools.pairwise(fields):
            group, previous = box.query_one(f"#g-{after}"), box.query_one(f"#g-{before}")
            if box.children.index(group) != box.children.index(previous) + 1:
                box.move_child(group, after=previous)
        self.validate()
        first = next((n for n in fields if n not in SWITCHES), None)
        if first is not None:
            self.query_one(f"#f-{first}").focus()

    @on(Select.Changed, "#kind")
    def _kind(self, event: Select.Changed) -> None:
        kind = OpKind(str(event.value))
        if kind is not self.kind:
            self.kind = kind
            self._show_kind()

    @on(TextArea.Changed)
    def _text(self, event: TextArea.Changed) -> None:
        name = (event.text_area.id or "f-").removeprefix("f-")
        self.texts[name] = event.text_area.text
        self.validate()

    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        if event.input.id == "collection":
            self.collection = event.value
        else:
            self.texts[(event.input.id or "f-").removeprefix("f-")] = event.value
        self.validate()

    @on(Switch.Changed)
    def _switch(self, event: Switch.Changed) -> None:
        self.texts[(event.switch.id or "f-").removeprefix("f-")] = (
            "true" if event.value else "false"
        )

    def spec(self) -> OpSpec:
        texts = {
            name: self.texts.get(name, "")
            for name in FIELDS[self.kind]
            if name not in OPTION_NAMES or self.texts.get(name, "").strip()  # options: when set
        }
        spec = OpSpec(kind=self.kind, collection=self.collection.strip(), texts=texts)
        if self.original is not None:
            spec.id = self.original.id
        return spec

    def validate(self) -> bool:
        bad = 0
        # The spec's own check: each field, and options that can't go with the kind
        # (model.op_options.kind_problem).
        errors = self.spec().errors()
        for name in FIELDS[self.kind]:
            if name in SWITCHES:
                continue
            err = errors.get(name)
            for label in self.query(f"#e-{name}"):
                label.update(f"✗ {err}" if err else "")
                label.display = err is not None
            for field in self.query(f"#f-{name}"):
                field.set_class(err is not None, "-invalid")
            bad += err is not None
        if not self.collection.strip() and self.kind is not OpKind.COMMAND:
            bad += 1
        self.query_one("#queue", Button).disabled = bad > 0
        status = self.query_one("#editor-status", Static)
        status.update(
            f"✗ {bad} field{'s' if bad != 1 else ''} to fix before queueing"
            if bad
            else f"✓ {self.spec().label(70)}"
        )
        status.set_class(bad > 0, "-invalid")
        return bad == 0

    @on(Button.Pressed, "#queue")
    def action_queue(self) -> None:
        if self.validate():
            self.dismiss(self.spec())
        else:
            self.notify(
                "Fix the flagged fields first; nothing you typed is lost.", severity="warning"
            )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

"""Scenario screens: the load picker, the save dialog and the code export."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from ..scenario.placement import PREFIX
from . import DIALOGS_CSS
from .file_dialog import FileDialog

if TYPE_CHECKING:
    from ..backend.confine import Served
    from ..backend.setup import Occupied
    from ..scenario.definition import Scenario


@dataclass(frozen=True)
class Pick:
    """What the load picker returns: a built-in name or a path, and where to run it."""

    target: str
    in_place: bool = False  # in the database the scenario names (a deployment by URI)


@dataclass
class Entry:
    target: str  # what load_scenario takes: a built-in name or a path
    kind: str  # "builtin", "sharded" (a lesson for a sharded cluster) or "draft"
    name: str
    title: str
    detail: str


def _entries(drafts: Path) -> list[Entry]:
    """Every built-in and the newest drafts, with one line each. Reads files."""
    from ..scenario.library import builtin_files, builtin_name, sharded_files
    from ..scenario.loader import ScenarioError, load_scenario

    out: list[Entry] = []
    library = [(p, "builtin") for p in builtin_files()] + [(p, "sharded") for p in sharded_files()]
    for path, kind in library:
        name = builtin_name(path)
        try:
            s = load_scenario(path)
        except (ScenarioError, OSError) as exc:
            out.append(Entry(str(path), kind, name, "✗ unreadable", str(exc)))
            continue
        out.append(Entry(name, kind, name, s.title, s.description))
    from ..backend.drafts import drafts as newest_drafts

    for path in newest_drafts(drafts):
        written = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
        try:
            s = load_scenario(path)
            title = f"saved {written} · {len(s.steps)} steps · {s.title}"
            detail = f"{path}: {s.description}"
        except (ScenarioError, OSError) as exc:
            title, detail = f"saved {written} · ✗ unreadable", str(exc)
        out.append(Entry(str(path), "draft", path.stem, title, detail))
    return out


class ScenarioPickerScreen(ModalScreen[Pick | None]):
    """Returns a Pick (a built-in name or a file path), or None when cancelled.

    `where` names the deployment ("sandbox (in this process)" or the masked URI); `own`
    says it is the embedded sandbox, where a scenario's collections are dropped and
    refilled. Elsewhere a scenario runs in a database of its own unless the user ticks
    "in place", and then loading asks before dropping a collection that holds data.
    """

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker-cancel")]

    def __init__(
        self, drafts: Path, where: str = "", own: bool = True, served: Served | None = None
    ) -> None:
        super().__init__()
        self.drafts = drafts
        self.served = served  # a browser tab: typed paths stay in its folder or the library
        self.where = where
        self.own = own
        self.details: dict[str, str] = {}

    def _where_text(self) -> str:
        if self.own:
            return f"on {self.where}: its collections are dropped and refilled"
        return f"on {self.where}: runs in a database of its own, {PREFIX}<its database>"

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog", classes="dialog"):
            yield Label("Load a scenario into the lanes", classes="dialog-title")
            yield Static(self._where_text(), id="picker-deployment", markup=False)
            if not self.own:
                yield Checkbox("or in place, asking before dropping data", id="picker-in-place")
            yield OptionList(Option("reading the library…", disabled=True), id="picker-list")
            yield Static("", id="picker-detail", classes="dim", markup=False)
            yield Label("or a scenario file (YAML):", classes="field-label")
            yield Input(placeholder="path/to/scenario.yaml", id="picker-path")
            yield Static("", id="picker-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Load", variant="primary", id="load")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#picker-list").focus()
        self.read_library()

    @work(exclusive=True, group="picker", exit_on_error=False, description="read scenarios")
    async def read_library(self) -> None:
        entries = await asyncio.to_thread(_entries, self.drafts)
        heading = Text("Built-in scenarios", style="bold")
        options: list[Option | None] = [Option(heading, disabled=True)]
        width = max((len(e.name) for e in entries if e.kind != "draft"), default=10)
        headings = {
            "sharded": "Lessons for a sharded cluster (mongotx-tui --sharded)",
            "draft": f"Drafts (autosaved in {self.drafts})",
        }
        kind = "builtin"
        for e in entries:
            if e.kind != kind:
                kind = e.kind
                heading = Text(headings.get(kind, kind), style="bold")
                options.extend([None, Option(heading, disabled=True)])
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(e.name.ljust(width + 2), style="" if e.kind == "draft" else "bold")
            line.append(e.title, style="dim" if e.kind == "draft" else "")
            options.append(Option(line, id=e.target))
            self.details[e.target] = e.detail
        listing = self.query_one("#picker-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        listing.highlighted = 1

    @on(OptionList.OptionHighlighted, "#picker-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        detail = " ".join(self.details.get(event.option.id or "", "").split())
        self.query_one("#picker-detail", Static).update(detail)

    def _pick(self, target: str) -> None:
        boxes = self.query("#picker-in-place").results(Checkbox)
        self.dismiss(Pick(target, in_place=any(box.value for box in boxes)))

    @on(OptionList.OptionSelected, "#picker-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._pick(event.option.id)

    @on(Input.Submitted, "#picker-path")
    @on(Button.Pressed, "#load")
    def _load(self) -> None:
        path = self.query_one("#picker-path", Input).value.strip()
        if path:
            from .served import place

            target, refused = place(self.served, path, loading=True)
            if refused:
                self.query_one("#picker-error", Static).update(refused)
                return
            if not Path(target).is_file():
                self.query_one("#picker-error", Static).update(f"✗ no such file: {path}")
                return
            self.check_file(target)
            return
        listing = self.query_one("#picker-list", OptionList)
        if listing.highlighted is not None:
            option = listing.get_option_at_index(listing.highlighted)
            if option.id:
                self._pick(option.id)

    @work(exclusive=True, group="picker-file", exit_on_error=False, description="read file")
    async def check_file(self, path: str) -> None:
        """Read and check the typed file here, so that what is wrong with it (not UTF-8, too
        big, malformed) shows in the dialog, with the path kept for a correction."""
        from ..scenario.loader import ScenarioError, load_scenario

        error = self.query_one("#picker-error", Static)
        error.update(f"reading {path}…")
        try:
            await asyncio.to_thread(load_scenario, path)
        except (ScenarioError, OSError) as exc:
            error.update(f"✗ {exc}")
            return
        self._pick(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDropScreen(ModalScreen[bool]):
    """Asks before a scenario's setup drops collections that hold data, naming each with
    what it holds. Returns True only for "Drop and load"; Cancel is focused first."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="drop-cancel")]

    def __init__(self, scenario: Scenario, where: str, occupied: list[Occupied]) -> None:
        super().__init__()
        self.scenario = scenario
        self.where = where
        self.occupied = occupied

    def compose(self) -> ComposeResult:
        n = len(self.occupied)
        them = "it" if n == 1 else "them"
        database = self.scenario.setup.database
        with Vertical(id="drop-dialog", classes="dialog"):
            yield Label(
                f"Drop {n} collection{'' if n == 1 else 's'} that hold{'s' if n == 1 else ''} data?",
                classes="dialog-title",
            )
            yield Static(
                f"Loading {self.scenario.title} ({self.scenario.name}) in place drops and "
                f"refills its collections in {database} on {self.where}. What "
                f"{'this one holds' if n == 1 else 'these hold'} now is lost:",
                markup=False,
            )
            yield Static(
                "\n".join(f"  {o.describe()}" for o in self.occupied),
                id="drop-list",
                markup=False,
            )
            yield Static(
                f'Cancel keeps {them}: load the scenario without "in place" to run it in '
                f"a database of its own ({PREFIX}{database}).",
                classes="dim",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"Drop {them} and load", variant="error", id="drop")
                yield Button("Cancel (Esc)", variant="primary", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel").focus()

    @on(Button.Pressed, "#drop")
    def _drop(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class SaveScenarioScreen(FileDialog):
    """Asks where to save the workbench as a scenario file; returns the path."""

    ID, TITLE, BUTTON = "save", "Save the workbench as a scenario", "Save"

    def __init__(self, default: Path, steps: int, served: Served | None = None) -> None:
        super().__init__(
            default,
            f"{steps} step{'s' if steps != 1 else ''} that ran, in the order they started, "
            "each expecting what happened. Lanes become sessions.",
            served,
        )


class ExportScreen(ModalScreen[None]):
    """The scenario as a pymongo script, read-only; copy it (OSC 52) or save it."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [
        Binding("escape", "close", "Close", id="export-close"),
        Binding("y", "copy", "Copy", id="export-copy"),
        Binding("f10", "save", "Save", id="export-save"),
    ]

    def __init__(
        self, scenario: Scenario, exports: Path, source: str, served: Served | None = None
    ) -> None:
        super().__init__()
        self.served = served  # a browser tab: the script stays in its folder
        self.scenario = scenario
        self.exports = exports
        self.source = source
        self.aio = False
        self.with_txn = False
        self.code = ""
        self.saved_to: Path | None = None
        self._shown_default = str(self._default_path())

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label(f"Export as code: {self.scenario.title}", classes="dialog-title")
            yield Static(self.source, classes="dim", markup=False)
            with Horizontal(id="export-options"):
                with RadioSet(id="export-style"):
                    yield RadioButton("sync (MongoClient)", value=True, id="style-sync")
                    yield RadioButton("async (AsyncMongoClient)", id="style-async")
                yield Checkbox("with_transaction callbacks", id="export-with-txn")
            yield TextArea("", id="export-code", read_only=True, show_line_numbers=True)
            with Horizontal(id="export-save-row"):
                yield Input(str(self._default_path()), id="export-path")
            if self.served is not None:
                yield Static("", id="export-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy (y)", variant="primary", id="copy")
                yield Button("Save (F10)", id="save")
                yield Button("Close (Esc)", id="close")

    def _default_path(self) -> Path:
        stem = self.scenario.name.replace("-", "_")
        if self.aio:
            stem += "_async"
        if self.with_txn:
            stem += "_with_transaction"
        return self.exports / f"{stem}.py"

    def on_mount(self) -> None:
        self._render_code()
        self.query_one("#export-code").focus()

    def _render_code(self) -> None:
        from ..scenario.export import export_script
        from ..scenario.pyliteral import ExportError

        try:
            self.code = export_script(self.scenario, aio=self.aio, with_transaction=self.with_txn)
        except ExportError as exc:
            self.code = f"# cannot export this scenario: {exc}\n"
        self.query_one("#export-code", TextArea).text = self.code
        path = self.query_one("#export-path", Input)
        if path.value == self._shown_default:  # follow the choice unless the user typed a path
            self._shown_default = path.value = str(self._default_path())

    @on(RadioSet.Changed, "#export-style")
    def _style(self, event: RadioSet.Changed) -> None:
        self.aio = event.pressed.id == "style-async"
        self._render_code()

    @on(Checkbox.Changed, "#export-with-txn")
    def _with_txn(self, event: Checkbox.Changed) -> None:
        self.with_txn = event.value
        self._render_code()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        # Textual writes OSC 52, which works over SSH and in tmux (set-clipboard on).
        self.app.copy_to_clipboard(self.code)
        lines = self.code.count("\n")
        self.notify(f"Copied the script ({lines} lines) to the clipboard (OSC 52)")

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#export-path")
    def action_save(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            return
        from .served import place

        target, refused = place(self.served, path)
        if self.served is not None:
            self.query_one("#export-error", Static).update(refused)
        if not refused:
            self.save_script(Path(target), self.code)

    @work(exclusive=True, group="export-save", exit_on_error=False, description="save script")
    async def save_script(self, path: Path, code: str) -> None:
        from ..scenario.save import write_atomic

        try:
            await asyncio.to_thread(write_atomic, path, code)
        except OSError as exc:
            self.notify(f"Cannot write {path}: {exc.strerror}", severity="error", markup=False)
            return
        self.saved_to = path
        from .served import hand_over

        self.notify(f"Saved {path}{hand_over(self.app, path)}", markup=False)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)

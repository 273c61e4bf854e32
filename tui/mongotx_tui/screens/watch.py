"""Choose the watched namespace: database and collection Inputs checked as typed, and the
collections that exist (listed by a worker, so the dialog never waits for the server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..model.naming import collection_problem, database_problem
from . import DIALOGS_CSS
from .checks import Problem

Lister = Callable[[], Awaitable[list[tuple[str, str]]]]


class WatchScreen(ModalScreen[tuple[str, str] | None]):
    """Returns (database, collection), or None when cancelled."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="watch-cancel"),
        Binding("f10", "apply", "Watch", id="watch-apply"),
    ]

    def __init__(self, db: str, collection: str, lister: Lister, fixed_db: str = "") -> None:
        """`lister` lists the existing namespaces; `fixed_db`, when set, is the only
        database allowed (a loaded scenario's)."""
        super().__init__()
        self.db = db
        self.collection = collection
        self.lister = lister
        self.fixed_db = fixed_db
        self.existing: set[tuple[str, str]] | None = None  # None until listed
        self.typed_db = db  # the collection's check needs it, also before the Inputs mount

    def compose(self) -> ComposeResult:
        with Vertical(id="watch-dialog", classes="dialog"):
            yield Label("Watch another collection", classes="dialog-title")
            yield Static(
                f"now {self.db}.{self.collection}. Operations run in the watched database; "
                "each keeps its own collection.",
                classes="dim",
                markup=False,
            )
            with Horizontal(id="watch-fields"):
                with Vertical():
                    yield Label("database", classes="field-label")
                    yield Input(
                        self.db, id="watch-db", classes="field", validators=[Problem(self._db)]
                    )
                    yield Static("", id="watch-db-error", classes="field-error", markup=False)
                with Vertical():
                    yield Label("collection", classes="field-label")
                    yield Input(
                        self.collection,
                        id="watch-coll",
                        classes="field",
                        validators=[Problem(self._coll)],
                    )
                    yield Static("", id="watch-coll-error", classes="field-error", markup=False)
            yield Label("collections on the server (enter picks one)", classes="field-label")
            yield OptionList(Option("listing…", disabled=True), id="watch-list")
            yield Static("", id="watch-note", classes="dim", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Watch (F10)", variant="primary", id="apply")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#watch-coll", Input).focus()
        self.list_namespaces()

    @work(exclusive=True, group="watch-list", exit_on_error=False, description="list collections")
    async def list_namespaces(self) -> None:
        listing = self.query_one("#watch-list", OptionList)
        try:
            found = await self.lister()
        except Exception as exc:  # listing is a convenience: say why, typing still works
            listing.clear_options()
            listing.add_option(Option(f"✗ cannot list them: {type(exc).__name__}", disabled=True))
            return
        self.existing = set(found)
        listing.clear_options()
        if not found:
            listing.add_option(Option("(none yet)", disabled=True))
        for db, coll in found:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(db, style="bold")
            line.append(f".{coll}")
            listing.add_option(Option(line, id=f"{db}\0{coll}"))
        self._check()

    def _values(self) -> tuple[str, str]:
        db = self.query_one("#watch-db", Input).value.strip()
        return db, self.query_one("#watch-coll", Input).value.strip()

    def _db(self, db: str) -> str | None:
        db = db.strip()
        problem = database_problem(db)
        if problem is None and self.fixed_db and db != self.fixed_db:
            problem = f"the loaded scenario runs in {self.fixed_db}"
        return problem

    def _coll(self, coll: str) -> str | None:
        return collection_problem(coll.strip(), self.typed_db)

    def _problems(self) -> tuple[str | None, str | None]:
        db, coll = self._values()
        return self._db(db), self._coll(coll)

    @on(Input.Changed)
    def _check(self) -> None:
        self.typed_db = self._values()[0]
        db_problem, coll_problem = self._problems()
        for field, problem in (("db", db_problem), ("coll", coll_problem)):
            field_input = self.query_one(f"#watch-{field}", Input)
            field_input.validate(field_input.value)  # the collection's check reads the db
            self.query_one(f"#watch-{field}-error", Static).update(
                f"✗ {problem}" if problem else ""
            )
        valid = db_problem is None and coll_problem is None
        self.query_one("#apply", Button).disabled = not valid
        note = ""
        if valid and self.existing is not None and self._values() not in self.existing:
            note = "no such collection yet: the panel stays empty until something is inserted"
        self.query_one("#watch-note", Static).update(note)

    @on(OptionList.OptionSelected, "#watch-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        db, _, coll = (event.option.id or "").partition("\0")
        self.query_one("#watch-db", Input).value = db
        self.query_one("#watch-coll", Input).value = coll
        self._check()
        self.action_apply()

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self._problems() != (None, None):
            return  # flagged in place; the Watch button is disabled meanwhile
        self.dismiss(self._values())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

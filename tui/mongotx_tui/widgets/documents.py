"""The committed-documents panel: one page of the watched collection, updated by push."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import DataTable

from ..model.literals import format_short
from ..model.page import PAGE_SIZE, Page


class CommittedPanel(DataTable[str]):
    """The table itself carries the panel's border, title and subtitle (one widget, not a
    container around a table)."""

    @dataclass
    class Selected(Message):
        """A committed document was chosen (Enter or click)."""

        doc: dict[str, Any]

    def __init__(self) -> None:
        super().__init__(id="committed", cursor_type="row", zebra_stripes=True)
        self.border_title = "Committed"
        self._docs: list[dict[str, Any]] = []
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column(Text("_id"), key="_id")  # Text: a str label is parsed as markup
        self.add_column(Text("document"), key="doc")

    def show(self, ns: str, page: Page, mode: str) -> None:
        old, self._docs = self._docs, list(page.docs)
        if self.row_count == len(old) == len(self._docs):
            # Same rows: change only the cells that differ. Clearing and re-adding them
            # changes the table's virtual size twice, and Textual lays the whole screen out
            # again for that (~10 ms at 120x36) on every commit.
            for i, (was, doc) in enumerate(zip(old, self._docs, strict=True)):
                if was != doc:
                    for column, text in zip(("_id", "doc"), self._cells(doc), strict=True):
                        self.update_cell(str(i), column, text, update_width=True)
        else:
            row = self.cursor_row
            # The columns too: clear() keeps their widths and add_row only widens them, so
            # 'alice' replaced by 1 kept the _id column 8 wide when a page of another size
            # came between, and not otherwise (a flaky snapshot).
            self.clear(columns=True)
            self._add_columns()
            for i, doc in enumerate(self._docs):
                self.add_row(*self._cells(doc), key=str(i))
            if self._docs:
                self.move_cursor(row=min(row, len(self._docs) - 1), animate=False)
        self.border_title = f"Committed {ns}"
        if page.total is None:
            count = "counting…"
        else:
            pages = max(1, -(-page.total // PAGE_SIZE))
            count = f"{page.total} docs · page {page.number + 1}/{pages}"
        self.border_subtitle = f"{count} · {mode or '…'}"

    @staticmethod
    def _cells(doc: dict[str, Any]) -> tuple[Text, Text]:
        rest = {k: v for k, v in doc.items() if k != "_id"}
        return Text(format_short(doc.get("_id"))), Text(format_short(rest))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        index = int(event.row_key.value or 0)
        if 0 <= index < len(self._docs):
            self.post_message(self.Selected(self._docs[index]))

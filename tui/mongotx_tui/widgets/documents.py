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
        # On a sharded cluster, each document's shard (a column before the document).
        self._shards: list[str] = []
        self._add_columns()

    def _columns(self) -> tuple[str, ...]:
        return ("_id", "shard", "doc") if self._shards else ("_id", "doc")

    def _add_columns(self) -> None:
        labels = {"_id": "_id", "shard": "shard", "doc": "document"}
        for key in self._columns():
            self.add_column(Text(labels[key]), key=key)  # Text: str labels are markup

    def show(self, ns: str, page: Page, mode: str) -> None:
        old, self._docs = self._docs, list(page.docs)
        old_shards = self._shards
        self._shards = list(page.shards) if len(page.shards) == len(self._docs) else []
        same_columns = bool(old_shards) == bool(self._shards)
        if same_columns and self.row_count == len(old) == len(self._docs):
            # Same rows: change only the cells that differ. Clearing and re-adding them
            # changes the table's virtual size twice, and Textual lays the whole screen out
            # again for that (~10 ms at 120x36) on every commit.
            rows = zip(old, old_shards or [""] * len(old), self._docs, strict=True)
            for i, (was, was_shard, doc) in enumerate(rows):
                shard = self._shards[i] if self._shards else ""
                if was != doc or was_shard != shard:
                    cells = self._cells(doc, shard)
                    for column, text in zip(self._columns(), cells, strict=True):
                        self.update_cell(str(i), column, text, update_width=True)
        else:
            row = self.cursor_row
            # The columns too: clear() keeps their widths and add_row only widens them, so
            # 'alice' replaced by 1 kept the _id column 8 wide when a page of another size
            # came between, and not otherwise (a flaky snapshot).
            self.clear(columns=True)
            self._add_columns()
            for i, doc in enumerate(self._docs):
                shard = self._shards[i] if self._shards else ""
                self.add_row(*self._cells(doc, shard), key=str(i))
            if self._docs:
                self.move_cursor(row=min(row, len(self._docs) - 1), animate=False)
        self.border_title = f"Committed {ns}"
        if page.total is None:
            count = "counting…"
        else:
            pages = max(1, -(-page.total // PAGE_SIZE))
            count = f"{page.total} docs · page {page.number + 1}/{pages}"
        self.border_subtitle = f"{count} · {mode or '…'}"

    def _cells(self, doc: dict[str, Any], shard: str) -> tuple[Text, ...]:
        rest = {k: v for k, v in doc.items() if k != "_id"}
        key, body = Text(format_short(doc.get("_id"))), Text(format_short(rest))
        return (key, Text(shard or "?"), body) if self._shards else (key, body)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        index = int(event.row_key.value or 0)
        if 0 <= index < len(self._docs):
            self.post_message(self.Selected(self._docs[index]))

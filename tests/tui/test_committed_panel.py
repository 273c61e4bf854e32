"""The committed panel sizes its columns for the documents it shows now, whatever it
showed before (a flaky snapshot: the _id column kept the width of 'alice' after a scenario
replaced alice and bob by 1 and 2 when an empty page came between)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from mongotx_tui.model.page import Page
from mongotx_tui.widgets.documents import CommittedPanel


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CommittedPanel()


def id_width(panel: CommittedPanel) -> int:
    return panel.columns[panel.ordered_columns[0].key].content_width


async def test_other_documents_get_columns_of_their_own_width() -> None:
    app = PanelApp()
    async with app.run_test(size=(80, 12)) as pilot:
        panel = app.query_one(CommittedPanel)
        people = Page(docs=[{"_id": "alice", "balance": 100}, {"_id": "bob", "balance": 50}])
        panel.show("bank.accounts", people, "change stream")
        await pilot.pause()
        assert id_width(panel) == len("'alice'")
        numbered = Page(docs=[{"_id": 1, "balance": 10}, {"_id": 2, "balance": 20}])
        panel.show("bank.accounts", numbered, "change stream")  # same count, other documents
        await pilot.pause()
        assert id_width(panel) == len("_id")  # the header is the widest now
        for page in (people, Page(), numbered):  # an empty page between
            panel.show("bank.accounts", page, "change stream")
            await pilot.pause()
        assert id_width(panel) == len("_id")
        assert [str(panel.get_row_at(i)[0]) for i in range(2)] == ["1", "2"]
        panel.show("bank.accounts", Page(docs=[{"_id": 1, "balance": 11}, numbered.docs[1]]), "")
        await pilot.pause()  # the same documents, one changed: updated in place
        assert str(panel.get_row_at(0)[1]) == "{balance: 11}"

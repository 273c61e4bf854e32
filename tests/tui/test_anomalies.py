"""The anomaly detector over hand-written histories (model.history, model.anomalies): each
phenomenon is named, serializable histories are not flagged, and a transaction aborted by a
WriteConflict is said to have prevented the cycle it would have closed."""

from __future__ import annotations

from typing import Any

from mongotx_tui.model.anomalies import analyse, anomalies, prevented
from mongotx_tui.model.history import History, Step, access_of


class H:
    """A tiny language for histories: h.begin("A"); h.read("A", 1, 10); h.commit("A")."""

    def __init__(self) -> None:
        self.history = History()
        self.numbers: dict[str, int] = {}
        self.open: set[str] = set()

    def _step(self, lane: str, action: str, ok: bool = True, **kw: Any) -> None:
        in_txn = lane in self.open
        self.history.record(
            Step(lane, action, action, "", ok, in_txn, self.numbers.get(lane), **kw)
        )

    def begin(self, lane: str) -> None:
        self.numbers[lane] = self.numbers.get(lane, 0) + 1
        self.open.add(lane)
        self._step(lane, "startTransaction")

    def commit(self, lane: str, ok: bool = True) -> None:
        self._step(lane, "commit", ok)
        self.open.discard(lane)

    def abort(self, lane: str) -> None:
        self._step(lane, "abort")
        self.open.discard(lane)

    def read(self, lane: str, _id: Any, value: Any) -> None:
        result = {"_id": _id, "value": value}
        self._step(
            lane, "findOne", access=access_of("findOne", "t", {"filter": {"_id": _id}}, result)
        )

    def scan(self, lane: str, filt: dict[str, Any], docs: list[dict[str, Any]]) -> None:
        self._step(lane, "find", access=access_of("find", "t", {"filter": filt}, docs))

    def write(self, lane: str, _id: Any, conflict: bool = False, filt: Any = None) -> None:
        values = {"filter": filt if filt is not None else {"_id": _id}, "update": {}}
        if conflict:
            access = access_of("update", "t", values, None)
            self._step(lane, "update", False, access=access, code=112, aborted=True)
            self.open.discard(lane)
            return
        access = access_of("update", "t", values, {"matchedCount": 1, "modifiedCount": 1})
        self._step(lane, "update", access=access)

    def insert(self, lane: str, doc: dict[str, Any]) -> None:
        result = {"insertedId": doc["_id"]}
        self._step(lane, "insert", access=access_of("insert", "t", {"document": doc}, result))

    def names(self) -> list[tuple[str, list[str]]]:
        return [(f.phenomenon, sorted(f.txns)) for f in anomalies(self.history)]


def test_serial_transactions_are_not_flagged() -> None:
    h = H()
    h.begin("A"), h.read("A", 1, 10), h.write("A", 1), h.commit("A")
    h.begin("B"), h.read("B", 1, 11), h.write("B", 1), h.commit("B")
    h.begin("A"), h.read("A", 1, 12), h.read("A", 2, 20), h.commit("A")
    assert analyse(h.history) == []


def test_snapshot_reads_of_disjoint_writes_are_not_flagged() -> None:
    """Each writes and reads back only its own document: no edge between them."""
    h = H()
    h.begin("A"), h.begin("B")
    h.write("A", 1), h.write("B", 2)
    h.read("A", 1, 11), h.read("B", 2, 22)
    h.commit("A"), h.commit("B")
    h.begin("C"), h.read("C", 1, 11), h.read("C", 2, 22), h.commit("C")
    assert analyse(h.history) == []


def test_outside_transactions_each_statement_is_its_own() -> None:
    h = H()
    h.read("A", 1, 10), h.read("B", 1, 10), h.write("A", 1), h.write("B", 1)
    assert anomalies(h.history) == []


def test_write_skew_is_g2_item() -> None:
    h = H()
    h.begin("T1"), h.begin("T2")
    h.read("T1", 1, 10), h.read("T1", 2, 20)
    h.read("T2", 1, 10), h.read("T2", 2, 20)
    h.write("T1", 1), h.write("T2", 2)
    h.commit("T1")
    assert anomalies(h.history) == []  # T2 has not committed: no cycle yet
    h.commit("T2")
    [found] = anomalies(h.history)
    assert (found.phenomenon, found.name) == ("G2-item", "write skew")
    assert sorted(found.txns) == ["T1 txn 1", "T2 txn 1"]
    assert [e.kind for e in found.edges] == ["rw", "rw"]
    assert "G2-item (write skew): T1 txn 1 ─rw→ T2 txn 1 ─rw→ T1 txn 1" == found.one_line()


def test_lost_update_is_g_single() -> None:
    """Both read x, both write it, both commit (a store without first-writer-wins)."""
    h = H()
    h.begin("A"), h.begin("B")
    h.read("A", 1, 10), h.read("B", 1, 10)
    h.write("A", 1), h.write("B", 1)
    h.commit("A"), h.commit("B")
    [found] = anomalies(h.history)
    assert found.phenomenon == "G-single"
    assert sorted(e.kind for e in found.edges) == ["rw", "ww"]


def test_read_skew_is_g_single() -> None:
    """A reads 1 before B's commit and 2 after it, from its snapshot... a history where the
    server returned B's value of 2: the answer wins over the snapshot rule."""
    h = H()
    h.begin("B"), h.write("B", 1), h.write("B", 2), h.read("B", 1, 12), h.read("B", 2, 18)
    h.begin("A"), h.read("A", 1, 10)
    h.commit("B")
    h.read("A", 2, 18)  # A saw B's 2 (18), but B's 1 (12) was not in its read of 1
    h.commit("A")
    [found] = anomalies(h.history)
    assert found.phenomenon == "G-single"
    assert sorted(e.kind for e in found.edges) == ["rw", "wr"]


def test_dirty_write_cycle_is_g0() -> None:
    """Writes interleaved on two documents, versions ordered by what later reads saw."""
    h = H()
    h.begin("A"), h.begin("B")
    h.write("A", 1), h.write("B", 1), h.write("B", 2), h.write("A", 2)
    h.read("A", 2, "a"), h.read("B", 1, "b"), h.read("B", 2, "b"), h.read("A", 1, "a")
    h.commit("A"), h.commit("B")
    # commit order gives A then B on both documents: serializable; no cycle
    assert anomalies(h.history) == []


def test_g0_from_two_writers_in_opposite_orders() -> None:
    from mongotx_tui.model.anomalies import Graph
    from mongotx_tui.model.history import Txn

    a = Txn("A:1", "A", "A txn 1", 1, "committed", 1, 10, writes=[(2, "t/1"), (5, "t/2")])
    b = Txn("B:1", "B", "B txn 1", 1, "committed", 3, 11, writes=[(3, "t/1"), (4, "t/2")])
    g = Graph([a, b])
    g.order["t/2"] = [b, a]  # B's version of 2 before A's: the versions cross
    g.edges = []
    g._build()
    [found] = g.find()
    assert found.phenomenon == "G0"


def test_circular_information_flow_is_g1c() -> None:
    """A reads B's write and B reads A's: only possible if each read the other's
    uncommitted version, which the document content tells."""
    h = H()
    h.begin("A"), h.begin("B")
    h.write("A", 1), h.read("A", 1, 11)
    h.write("B", 2), h.read("B", 2, 22)
    h.read("A", 2, 22)  # the server returned B's uncommitted 22
    h.read("B", 1, 11)
    h.commit("A"), h.commit("B")
    found = anomalies(h.history)
    assert [f.phenomenon for f in found] == ["G1c"]


def test_predicate_anti_dependencies_are_g2() -> None:
    h = H()
    h.begin("T1"), h.begin("T2")
    h.scan("T1", {"value": {"$mod": [3, 0]}}, [])
    h.scan("T2", {"value": {"$mod": [3, 0]}}, [])
    h.insert("T1", {"_id": 3, "value": 30}), h.insert("T2", {"_id": 4, "value": 42})
    h.commit("T1"), h.commit("T2")
    assert anomalies(h.history) == []  # nothing yet says 3 and 4 match the predicate
    h.scan("R", {"value": {"$mod": [3, 0]}}, [{"_id": 3, "value": 30}, {"_id": 4, "value": 42}])
    [found] = anomalies(h.history)
    assert found.phenomenon == "G2"
    assert all(e.predicate for e in found.edges)


def test_write_conflict_prevented_lost_update() -> None:
    h = H()
    h.begin("A"), h.begin("B")
    h.read("A", 1, 10), h.read("B", 1, 10)
    h.write("A", 1), h.write("B", 1, conflict=True)
    h.commit("A"), h.abort("B")
    assert anomalies(h.history) == []
    [found] = prevented(h.history)
    assert (found.phenomenon, found.prevented_by) == ("G-single", "B txn 1")
    assert found.one_line().startswith("B txn 1's WriteConflict prevented G-single")


def test_write_conflict_by_equality_filter_names_the_documents_read() -> None:
    """A refused delete by `{value: 20}`: the document it meant is the one the transaction
    read with that value (Hermitage's G-single)."""
    h = H()
    h.begin("T1"), h.begin("T2")
    h.read("T1", 1, 10)
    h.write("T2", 1), h.write("T2", 2), h.commit("T2")
    h.read("T1", 2, 20)
    h.write("T1", None, conflict=True, filt={"value": 20})
    h.abort("T1")
    assert anomalies(h.history) == []
    [found] = prevented(h.history)
    assert found.phenomenon == "G-single" and found.prevented_by == "T1 txn 1"


def test_a_conflict_that_closes_no_cycle_is_not_claimed() -> None:
    h = H()
    h.begin("A"), h.begin("B")
    h.write("A", 1), h.write("B", 1, conflict=True)
    h.commit("A"), h.abort("B")
    assert analyse(h.history) == []

"""Name the anomaly: Adya's direct serialization graph over the committed transactions.

A. Adya, "Weak Consistency: A Generalized Theory and Optimistic Implementations for
Distributed Transactions", PhD thesis, MIT, 1999, §3 and §4; A. Adya, B. Liskov and
P. O'Neil, "Generalized Isolation Level Definitions", ICDE 2000. Nodes are committed
transactions; edges are
- ww (Ti installs a version of x, Tj the next one),
- wr (Tj reads the version of x Ti installed),
- rw (Ti reads a version of x, Tj installs the next one; for a predicate read, Tj installs
  a version that changes what the predicate matches).
A cycle is a phenomenon, named by the edges in it: only ww is G0; ww and wr is G1c; exactly
one rw is G-single; more, all on documents, G2-item (two transactions: write skew); a
predicate's rw in it, G2.

The versions: MongoDB orders a document's versions by the commits of its writers (a second
writer of an uncommitted document gets a WriteConflict, so writers commit one after the
other), and a transaction reads from the snapshot its first statement opened (srv:
db/transaction/transaction_participant.cpp, TransactionParticipant::Participant::
_setReadSnapshot, called for the first statement; the manual, "Read Concern "snapshot""):
the version committed last before it, or its own write. The document the server returned
is checked against what the history knows of that version (the writer's own reads of it,
the document it inserted); when it differs and one other version has that content, the
server's answer wins.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from itertools import pairwise

from .history import History, Txn
from .literals import format_value

PHENOMENA = {
    "G0": "dirty write",
    "G1c": "circular information flow",
    "G-single": "single anti-dependency cycle",
    "G2-item": "item anti-dependency cycle",
    "G2": "anti-dependency cycle with a predicate",
}
ORDER = ("G0", "G1c", "G-single", "G2-item", "G2")


@dataclass(frozen=True)
class Edge:
    src: str  # txn id
    dst: str
    kind: str  # ww, wr, rw
    key: str  # the document (for a predicate rw: the document that changed the match)
    predicate: bool = False


@dataclass(frozen=True)
class Finding:
    """A cycle in the graph: its phenomenon and its transactions, in cycle order."""

    phenomenon: str
    txns: tuple[str, ...]  # labels
    edges: tuple[Edge, ...]
    labels: tuple[tuple[str, str], ...]  # (txn id, label) of the cycle's transactions
    prevented_by: str = ""  # the label of the transaction whose WriteConflict stopped it

    @property
    def name(self) -> str:
        if self.phenomenon == "G2-item" and len(self.txns) == 2:
            return "write skew"
        return PHENOMENA[self.phenomenon]

    @property
    def ident(self) -> tuple[str, frozenset[str], str]:
        return (self.phenomenon, frozenset(self.txns), self.prevented_by)

    def cycle_text(self) -> str:
        names = dict(self.labels)
        parts = [names[self.edges[0].src]]
        for e in self.edges:
            parts.append(f"─{e.kind}→ {names[e.dst]}")
        return " ".join(parts)

    def short(self) -> str:
        """What a timeline row's outcome shows (its `what` names the phenomenon): the name
        or who prevented it first, then the cycle."""
        if self.prevented_by:
            return f"{self.prevented_by}'s WriteConflict: {self.cycle_text()}"
        return f"{self.name}: {self.cycle_text()}"

    def one_line(self) -> str:
        head = f"{self.phenomenon} ({self.name})"
        if self.prevented_by:
            return f"{self.prevented_by}'s WriteConflict prevented {head}: {self.cycle_text()}"
        return f"{head}: {self.cycle_text()}"


# -- the graph -------------------------------------------------------------------------------
def _content(txn: Txn, key: str) -> str | None:
    """What the history knows of the version of `key` that `txn` installed."""
    if key in txn.deleted:
        return "deleted"
    last = max((s for s, k in txn.writes if k == key), default=None)
    own = [r for r in txn.reads if r.key == key and last is not None and r.seq > last]
    if own:
        return format_value(own[-1].doc)
    if key in txn.inserted and sum(1 for _, k in txn.writes if k == key) == 1:
        return format_value(txn.inserted[key])
    return None


class Graph:
    """The direct serialization graph of `txns` (the committed ones, maybe one more)."""

    def __init__(self, txns: list[Txn], readers: list[Txn] | None = None) -> None:
        self.all_readers = readers if readers is not None else txns  # every predicate read
        self.txns = sorted(txns, key=lambda t: (t.end_seq or 0, t.id))
        self.ids = {t.id: t for t in self.txns}
        self._rank = {t.id: i for i, t in enumerate(self.txns)}  # commit order
        self.order: dict[str, list[Txn]] = {}  # key -> its writers, in commit order
        for t in self.txns:
            for key in dict.fromkeys(k for _, k in t.writes):
                self.order.setdefault(key, []).append(t)
        self.edges: list[Edge] = []
        self._contents: dict[str, dict[str, list[int]]] = {}
        self._build()

    def _known(self, key: str) -> dict[str, list[int]]:
        """The versions of `key` whose content the history knows: content → indices."""
        known = self._contents.get(key)
        if known is None:
            known = {}
            for i, w in enumerate(self.order.get(key, [])):
                content = _content(w, key)
                if content is not None:
                    known.setdefault(content, []).append(i)
            self._contents[key] = known
        return known

    def seen(self, reader: Txn, key: str, doc: dict[str, object]) -> int:
        """The index in `order[key]` of the version `reader` read (-1: the first one)."""
        writers = self.order.get(key, [])
        at = -1
        for i, w in enumerate(writers):
            if w is not reader and (w.end_seq or 0) < reader.snapshot:
                at = i
        known = self._known(key)
        if not known:
            return at
        same = [i for i in known.get(format_value(doc), []) if writers[i] is not reader]
        if at in same:
            return at
        # the answer differs from (or says nothing of) the version the rule gives: a version
        # whose content the history knows, and only one, is the one the server returned
        return same[0] if len(same) == 1 else at

    def _build(self) -> None:
        out: dict[tuple[str, str, str], Edge] = {}

        def add(edge: Edge) -> None:
            if edge.src != edge.dst:
                out.setdefault((edge.src, edge.dst, edge.kind), edge)

        for key, writers in self.order.items():
            for a, b in pairwise(writers):
                add(Edge(a.id, b.id, "ww", key))
        for t in self.txns:
            for r in t.reads:
                if t.wrote_before(r.key, r.seq):
                    continue
                writers = self.order.get(r.key, [])
                i = self.seen(t, r.key, r.doc)
                if i >= 0:
                    add(Edge(writers[i].id, t.id, "wr", r.key))
                nxt = writers[i + 1] if i + 1 < len(writers) else None
                if nxt is not None and nxt is not t:  # its own next version: no edge
                    add(Edge(t.id, nxt.id, "rw", r.key))
            for p in t.predicates:
                for key in self._changed_matches(t, p.collection, p.filter, p.matched):
                    w = self._first_writer_after(key, t)
                    if w is not None:
                        add(Edge(t.id, w.id, "rw", key, predicate=True))
        self.edges = list(out.values())
        self._steps: dict[tuple[frozenset[str], bool], dict[str, list[str]]] = {}
        self.out: dict[str, list[Edge]] = {}
        for edge in self.edges:
            self.out.setdefault(edge.src, []).append(edge)

    def _first_writer_after(self, key: str, t: Txn) -> Txn | None:
        return next(
            (w for w in self.order.get(key, []) if w is not t and (w.end_seq or 0) > t.snapshot),
            None,
        )

    def _changed_matches(
        self, t: Txn, collection: str, filt: str, matched: frozenset[str]
    ) -> list[str]:
        """Documents of `collection` not in `t`'s predicate read that a later committed
        version makes match it: the server said so to a later read of the same predicate
        (in a transaction or not, committed or not: the answer is the server's)."""
        found: list[str] = []
        for u in self.all_readers:
            for q in u.predicates:
                if q.collection != collection or q.filter != filt or u.snapshot <= t.snapshot:
                    continue
                for key in sorted(q.matched - matched):
                    w = self._first_writer_after(key, t)
                    if w is not None and (w.end_seq or 0) < u.snapshot and key not in found:
                        found.append(key)
        return found

    def find(self, through: set[str] | None = None) -> list[Finding]:
        """The most specific cycle through each transaction (of `through`), one per set of
        transactions."""
        findings: dict[frozenset[str], Finding] = {}
        cyclic = self._in_cycles()
        for t in self.txns:
            if t.id not in cyclic or (through is not None and t.id not in through):
                continue
            cycle = self._cycle_through(t.id)
            if cycle is None:
                continue
            phenomenon, edges = cycle
            # told from the transaction that committed first, however it was found
            first = min(range(len(edges)), key=lambda i: self._rank[edges[i].src])
            edges = edges[first:] + edges[:first]
            ids = tuple(e.src for e in edges)
            if frozenset(ids) in findings:
                continue
            labels = tuple((i, self.ids[i].label) for i in ids)
            findings[frozenset(ids)] = Finding(
                phenomenon, tuple(self.ids[i].label for i in ids), tuple(edges), labels
            )
        return list(findings.values())

    def _reach(self, start: str, kinds: set[str], forward: bool) -> set[str]:
        """The transactions `start` reaches (or that reach it) by edges of `kinds`."""
        cache = (frozenset(kinds), forward)
        step = self._steps.get(cache)
        if step is None:
            step = self._steps[cache] = {}
            for e in self.edges:
                if e.kind in kinds:
                    a, b = (e.src, e.dst) if forward else (e.dst, e.src)
                    step.setdefault(a, []).append(b)
        seen, todo = {start}, [start]
        while todo:
            for nxt in step.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def _in_cycles(self) -> set[str]:
        """The transactions on some cycle: those whose strongly connected component holds
        more than one (Kosaraju's two passes, without recursion)."""
        order: list[str] = []
        seen: set[str] = set()
        for root in self.ids:
            if root in seen:
                continue
            seen.add(root)
            stack = [(root, iter(self.out.get(root, ())))]
            while stack:
                node, edges = stack[-1]
                e = next(edges, None)
                if e is None:
                    order.append(node)
                    stack.pop()
                elif e.dst not in seen:
                    seen.add(e.dst)
                    stack.append((e.dst, iter(self.out.get(e.dst, ()))))
        back: dict[str, list[str]] = {}
        for e in self.edges:
            back.setdefault(e.dst, []).append(e.src)
        cyclic: set[str] = set()
        done: set[str] = set()
        for root in reversed(order):
            if root in done:
                continue
            done.add(root)
            component, todo = [root], [root]
            while todo:
                for prev in back.get(todo.pop(), ()):
                    if prev not in done:
                        done.add(prev)
                        component.append(prev)
                        todo.append(prev)
            if len(component) > 1:
                cyclic.update(component)
        return cyclic

    def _path(self, start: str, goal: str, kinds: set[str], item_only: bool) -> list[Edge] | None:
        """A shortest path of edges of `kinds` from start to goal (breadth first)."""
        if start == goal:
            return []
        back: dict[str, Edge] = {}
        queue = deque([start])
        seen = {start}
        while queue:
            node = queue.popleft()
            for e in self.out.get(node, ()):
                if e.kind not in kinds or e.dst in seen:
                    continue
                if item_only and e.predicate:
                    continue
                back[e.dst] = e
                if e.dst == goal:
                    path = [e]
                    while path[0].src != start:
                        path.insert(0, back[path[0].src])
                    return path
                seen.add(e.dst)
                queue.append(e.dst)
        return None

    def _loop(self, t: str, kinds: set[str], item_only: bool = False) -> list[Edge] | None:
        best: list[Edge] | None = None
        for e in self.out.get(t, ()):
            if e.kind not in kinds or (item_only and e.predicate):
                continue
            rest = self._path(e.dst, t, kinds, item_only)
            if rest is not None and (best is None or len(rest) + 1 < len(best)):
                best = [e, *rest]
        return best

    def _cycle_through(self, t: str) -> tuple[str, list[Edge]] | None:
        cycle = self._loop(t, {"ww"})
        if cycle:
            return "G0", cycle
        cycle = self._loop(t, {"ww", "wr"})
        if cycle:
            return "G1c", cycle
        deps = {"ww", "wr"}
        ahead = self._reach(t, deps, forward=True)  # t reaches these by ww/wr
        behind = self._reach(t, deps, forward=False)  # these reach t by ww/wr
        for e in self.edges:  # exactly one rw: t ⇝ a, rw a→b, b ⇝ t
            if e.kind != "rw" or e.src not in ahead or e.dst not in behind:
                continue
            to_t = self._path(e.dst, t, deps, False)
            from_t = self._path(t, e.src, deps, False)
            if to_t is not None and from_t is not None:
                cycle = [*from_t, e, *to_t]
                start = next(i for i, x in enumerate(cycle) if x.src == t)
                return "G-single", cycle[start:] + cycle[:start]
        cycle = self._loop(t, {"ww", "wr", "rw"}, item_only=True)
        if cycle:
            return "G2-item", cycle
        cycle = self._loop(t, {"ww", "wr", "rw"})
        if cycle:
            return "G2", cycle
        return None


WINDOW = 300  # the newest committed transactions the graph holds (a long session stays fast)
PREVENTED_WINDOW = 10  # the newest transactions lost to a WriteConflict that are looked at
GHOST_WINDOW = 60  # the newest committed transactions each of them is placed among


def graph(history: History, extra: Txn | None = None, window: int = WINDOW) -> Graph:
    committed = [t for t in history.txns if t.status == "committed"][-window:]
    return Graph(committed + ([extra] if extra is not None else []), list(history.txns))


def anomalies(history: History, through: set[str] | None = None) -> list[Finding]:
    """The cycles among the committed transactions (through those of `through`)."""
    return graph(history).find(through)


def prevented(history: History, only: set[str] | None = None) -> list[Finding]:
    """For each transaction aborted by a WriteConflict: the cycle it would have closed had
    it committed with the write the server refused (placed where it ended)."""
    out: list[Finding] = []
    lost = [t for t in history.txns if t.conflict_seq is not None][-PREVENTED_WINDOW:]
    for t in lost:
        if t.status != "aborted" or not t.refused:
            continue
        if only is not None and t.id not in only:
            continue
        end = t.closed_seq or t.end_seq or t.conflict_seq  # where its commit would have been
        writes = [*t.writes, *((t.conflict_seq, k) for k in t.refused)]
        ghost = replace(t, status="committed", end_seq=end, writes=writes)
        found = graph(history, ghost, GHOST_WINDOW).find({t.id})
        out.extend(replace(f, prevented_by=t.label) for f in found)
    return out


def analyse(history: History, through: set[str] | None = None) -> list[Finding]:
    """Every cycle the history holds (through the transactions of `through`: those that
    just committed, as only they can close a new one), then every one that a transaction
    lost to a WriteConflict prevented."""
    return anomalies(history, through) + prevented(history)


__all__ = ["ORDER", "PHENOMENA", "Edge", "Finding", "Graph", "analyse", "anomalies", "prevented"]

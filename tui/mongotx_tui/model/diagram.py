"""The history as a sequence diagram: one column per lane, the steps in the order their
replies came, WriteConflicts and waits as arrows to the lane they were about, the anomalies
(model.anomalies) with their dependency edges, and the committed values at the end.

`story()` gathers it; `as_text`, `as_mermaid` (Markdown) and `diagram_svg.as_svg` draw it;
`diagram_files.render` picks one by a file's extension. Pure: no IO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .anomalies import Finding
from .history import History, Row
from .literals import format_value


@dataclass(frozen=True)
class Arrow:
    src: str  # lane
    dst: str  # lane
    label: str
    kind: str  # conflict, wait, ww, wr, rw


@dataclass(frozen=True)
class Item:
    """One line of the diagram: a step in its lane, or a note across lanes."""

    lane: str  # "" for a note across every lane
    what: str
    outcome: str = ""
    ok: bool = True
    kind: str = "op"  # op, txn, note, anomaly, prevented
    arrows: tuple[Arrow, ...] = ()
    seq: int = 0


@dataclass
class Story:
    title: str
    lanes: list[str]
    items: list[Item] = field(default_factory=list)
    final: list[tuple[str, list[str]]] = field(default_factory=list)  # (collection, docs)
    findings: list[Finding] = field(default_factory=list)


def _step_item(row: Row) -> Item:
    arrows: list[Arrow] = []
    if row.conflict_with and row.conflict_with != row.lane:
        arrows.append(Arrow(row.lane, row.conflict_with, "WriteConflict", "conflict"))
    if row.waited_for and row.waited_for != row.lane:
        arrows.append(Arrow(row.lane, row.waited_for, "waited for its end", "wait"))
    kind = "txn" if row.kind == "txn" else "note" if row.kind == "note" else "op"
    return Item(row.lane, row.what, row.outcome, row.ok, kind, tuple(arrows), row.seq)


def _closed_at(history: History, finding: Finding) -> int:
    """The row after which a cycle exists: the last commit of its transactions (for a
    prevented one, where the aborted transaction ended)."""
    seqs = []
    for txn_id, _ in finding.labels:
        t = history.txn(txn_id)
        if t is not None:
            seqs.append(t.closed_seq or t.end_seq or t.conflict_seq or 0)
    return max(seqs, default=0)


def _finding_item(history: History, finding: Finding) -> Item:
    lanes = {}
    for txn_id, _ in finding.labels:
        t = history.txn(txn_id)
        lanes[txn_id] = t.lane if t is not None else ""
    arrows = tuple(
        Arrow(lanes[e.src], lanes[e.dst], f"{e.kind} {e.key}", e.kind)
        for e in finding.edges
        if lanes[e.src] and lanes[e.dst]
    )
    kind = "prevented" if finding.prevented_by else "anomaly"
    return Item("", finding.one_line(), "", not finding.prevented_by, kind, arrows)


def story(
    history: History,
    findings: list[Finding],
    *,
    title: str,
    lanes: list[str] | None = None,
    final: dict[str, list[dict[str, Any]]] | None = None,
) -> Story:
    """The diagram's content: the history's rows, each finding after the row that closed
    its cycle, and the committed documents per collection."""
    order = list(lanes or [])
    order += [lane for lane in history.lanes if lane not in order]
    placed: dict[int, list[Finding]] = {}
    for f in findings:
        placed.setdefault(_closed_at(history, f), []).append(f)
    items: list[Item] = []
    for f in placed.pop(0, []):
        items.append(_finding_item(history, f))
    for row in history.rows:
        items.append(_step_item(row))
        for f in placed.pop(row.seq, []):
            items.append(_finding_item(history, f))
    for rest in placed.values():
        items.extend(_finding_item(history, f) for f in rest)
    committed = [
        (name, [format_value(d) for d in docs]) for name, docs in sorted((final or {}).items())
    ]
    return Story(title, order, items, committed, list(findings))


# -- plain text ------------------------------------------------------------------------------
def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def as_text(s: Story, width: int = 44) -> str:
    """A table: one column per lane, one line per step (`what → outcome`), arrows as
    `⇢ B WriteConflict`; anomalies across the columns; the committed values last."""
    head = ["#", *s.lanes]
    rows: list[list[str]] = []
    n = 0
    for item in s.items:
        if not item.lane:
            continue
        n += 1
        cells = [""] * len(s.lanes)
        text = item.what + (f" → {item.outcome}" if item.outcome else "")
        column = s.lanes.index(item.lane) if item.lane in s.lanes else 0
        cells[column] = _clip(text, width)
        rows.append([str(n), *cells])
        for a in item.arrows:  # on a line of its own, under the step
            arrow = [""] * len(s.lanes)
            arrow[column] = _clip(f"  ⇢ {a.dst}: {a.label}", width)
            rows.append(["", *arrow])
        for note in _notes_after(s, item):
            rows.append(["!", _clip(note, width * len(s.lanes))])
    widths = [
        max([len(head[i]), *(len(r[i]) for r in rows if len(r) > i and len(r) == len(head))])
        for i in range(len(head))
    ]
    out = [s.title, ""]
    out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        if len(r) == len(head):
            out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        else:
            out.append(f"{r[0].ljust(widths[0])}  {r[1]}")
    out.extend(_tail(s))
    return "\n".join(out) + "\n"


def _notes_after(s: Story, item: Item) -> list[str]:
    """The notes (anomalies) placed right after `item`."""
    i = s.items.index(item)
    out: list[str] = []
    for nxt in s.items[i + 1 :]:
        if nxt.lane:
            break
        out.append(nxt.what)
    return out


def _tail(s: Story) -> list[str]:
    out = [""]
    if s.findings:
        out.append("Anomalies (Adya's direct serialization graph):")
        out.extend(f"  {f.one_line()}" for f in s.findings)
    else:
        out.append("Anomalies: none (no cycle among the committed transactions)")
    for name, docs in s.final:
        out.append(f"Committed in {name}:")
        out.extend(f"  {d}" for d in docs)
    return out


# -- Mermaid ----------------------------------------------------------------------------------
MERMAID_CODES = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "%": "#37;"}


def _mm(text: str, width: int = 80) -> str:
    """Text safe in a Mermaid message or note: its entity codes (`#59;`) for the characters
    that end or break a statement or would be read as markup; one line."""
    return "".join(MERMAID_CODES.get(ch, ch) for ch in _clip(text, width))


def as_mermaid(s: Story) -> str:
    """A Markdown file holding a Mermaid `sequenceDiagram`."""
    alias = {lane: f"L{i + 1}" for i, lane in enumerate(s.lanes)}
    lines = [f"# {_clip(s.title, 100)}", "", "```mermaid", "sequenceDiagram"]
    lines += [f"    participant {alias[lane]} as {_mm(lane, 40)}" for lane in s.lanes]
    first, last = (alias[s.lanes[0]], alias[s.lanes[-1]]) if s.lanes else ("", "")
    span = f"{first},{last}" if first != last else first
    for item in s.items:
        if not item.lane:
            if span:
                lines.append(f"    Note over {span}: {_mm(item.what, 160)}")
            for a in item.arrows:
                lines.append(f"    {alias[a.src]}--){alias[a.dst]}: {_mm(a.label)}")
            continue
        me = alias[item.lane]
        text = item.what + (f" → {item.outcome}" if item.outcome else "")
        mark = "" if item.ok else "✗ "
        lines.append(f"    Note over {me}: {_mm(mark + text)}")
        for a in item.arrows:
            arrow = "-x" if a.kind == "conflict" else "-->>"
            lines.append(f"    {me}{arrow}{alias[a.dst]}: {_mm(a.label)}")
    lines.append("```")
    lines.extend(_tail(s))
    return "\n".join(lines) + "\n"


__all__ = ["Arrow", "Item", "Story", "as_mermaid", "as_text", "story"]

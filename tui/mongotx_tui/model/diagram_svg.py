"""The sequence diagram (model.diagram's Story) as SVG text for slides: hand-built, every
text escaped, deterministic (no times, no ids that change from run to run)."""

from __future__ import annotations

from html import escape

from .diagram import Arrow, Item, Story

MARGIN = 20
LANE_W = 300
TOP = 74  # below the title and the lane heads
STEP_H = 44  # a step's box (two lines) and the gap below it
ARROW_H = 20
NOTE_H = 26
LINE_H = 15
CHAR_W = 6.7  # 11px monospace
COLOURS = {  # fill, stroke
    "op": ("#eef3fb", "#4a6fa5"),
    "txn": ("#f1f1f1", "#6b6b6b"),
    "error": ("#fdecea", "#c0392b"),
    "anomaly": ("#fff4ce", "#b7791f"),
    "prevented": ("#e7f5e9", "#2e7d32"),
}
ARROW_COLOURS = {
    "conflict": "#c0392b",
    "wait": "#6b6b6b",
    "ww": "#8e44ad",
    "wr": "#2471a3",
    "rw": "#b7791f",
}


def _text(value: str) -> str:
    """Escaped for XML; characters XML 1.0 cannot hold are dropped."""
    clean = "".join(ch for ch in value if ch in "\t" or ord(ch) >= 32)
    return escape(" ".join(clean.split()), quote=True)


def _fit(value: str, width: float) -> str:
    room = max(4, int(width / CHAR_W))
    value = " ".join(value.split())
    return value if len(value) <= room else value[: room - 1] + "…"


class _Canvas:
    def __init__(self, lanes: list[str]) -> None:
        self.lanes = lanes
        self.lane_w = max(LANE_W, 640 // max(1, len(lanes)))
        self.width = 2 * MARGIN + self.lane_w * max(1, len(lanes))
        self.parts: list[str] = []

    def x(self, lane: str) -> float:
        i = self.lanes.index(lane) if lane in self.lanes else 0
        return MARGIN + self.lane_w * i + self.lane_w / 2

    def add(self, part: str) -> None:
        self.parts.append(part)

    def label(self, x: float, y: float, value: str, cls: str, anchor: str = "start") -> None:
        self.add(
            f'<text x="{x:g}" y="{y:g}" class="{cls}" text-anchor="{anchor}">{_text(value)}</text>'
        )

    def arrow(self, a: Arrow, y: float) -> None:
        x1, x2 = self.x(a.src), self.x(a.dst)
        if x1 == x2:
            return
        half = self.lane_w / 2 - 14
        x1 += half if x2 > x1 else -half
        x2 += -8 if x2 > x1 else 8
        colour = ARROW_COLOURS.get(a.kind, "#444444")
        dash = ' stroke-dasharray="5 3"' if a.kind in ("wait", "ww", "wr", "rw") else ""
        self.add(
            f'<line x1="{x1:g}" y1="{y:g}" x2="{x2:g}" y2="{y:g}" stroke="{colour}" '
            f'stroke-width="1.6"{dash} marker-end="url(#head-{a.kind})"/>'
        )
        mid = (x1 + x2) / 2
        self.label(mid, y - 4, _fit(a.label, abs(x2 - x1) - 8), f"arrow {a.kind}", "middle")


def _step(c: _Canvas, item: Item, y: float) -> float:
    cx = c.x(item.lane)
    w = c.lane_w - 28
    x = cx - w / 2
    style = "error" if not item.ok else item.kind if item.kind in COLOURS else "op"
    fill, stroke = COLOURS[style]
    rx = 12 if item.kind == "txn" else 4
    c.add(
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="34" rx="{rx}" fill="{fill}" '
        f'stroke="{stroke}"/>'
    )
    c.label(x + 8, y + 14, _fit(item.what, w - 16), "what")
    mark = "✓ " if item.ok else "✗ "
    c.label(x + 8, y + 28, _fit(mark + item.outcome, w - 16), "ok" if item.ok else "err")
    y += STEP_H
    for a in item.arrows:
        c.arrow(a, y - 4)
        y += ARROW_H
    return y


def _wrap(value: str, width: float, lines: int = 3) -> list[str]:
    """`value` in lines that fit `width` (at most `lines`, the last one clipped)."""
    room = max(8, int(width / CHAR_W))
    words, out, line = " ".join(value.split()).split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > room:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return [_fit(x, width) for x in out]


def _note(c: _Canvas, item: Item, y: float) -> float:
    fill, stroke = COLOURS.get(item.kind, COLOURS["anomaly"])
    w = c.width - 2 * MARGIN
    lines = _wrap(item.what, w - 16)
    h = NOTE_H - 4 + LINE_H * (len(lines) - 1)
    c.add(
        f'<rect x="{MARGIN}" y="{y:g}" width="{w:g}" height="{h:g}" rx="4" '
        f'fill="{fill}" stroke="{stroke}"/>'
    )
    for i, line in enumerate(lines):
        c.label(MARGIN + 8, y + 15 + i * LINE_H, line, "note")
    y += h + 20
    for a in item.arrows:
        c.arrow(a, y)
        y += ARROW_H
    return y


def as_svg(s: Story) -> str:
    """The diagram as a standalone SVG document."""
    c = _Canvas(s.lanes)
    y = float(TOP)
    for item in s.items:
        y = _step(c, item, y) if item.lane else _note(c, item, y)
    body_end = y
    lines: list[tuple[str, str]] = []
    if not s.findings:
        lines.append(("Anomalies: none (no cycle among the committed transactions)", "tail"))
    for name, docs in s.final:
        lines.append((f"Committed in {name}:", "tailhead"))
        lines.extend((f"  {d}", "tail") for d in docs)
    y += 10
    if lines:
        h = LINE_H * len(lines) + 12
        c.add(
            f'<rect x="{MARGIN}" y="{y:g}" width="{c.width - 2 * MARGIN:g}" height="{h:g}" '
            f'rx="4" fill="#fafafa" stroke="#999999"/>'
        )
        for i, (text, cls) in enumerate(lines):
            c.label(MARGIN + 8, y + 18 + i * LINE_H, _fit(text, c.width - 2 * MARGIN - 16), cls)
        y += h
    height = y + MARGIN
    head: list[str] = []
    for lane in s.lanes:
        x = c.x(lane)
        head.append(
            f'<line x1="{x:g}" y1="{TOP - 20}" x2="{x:g}" y2="{body_end:g}" stroke="#bbbbbb" '
            f'stroke-dasharray="3 3"/>'
        )
        head.append(
            f'<rect x="{x - 60:g}" y="{TOP - 44}" width="120" height="24" rx="4" fill="#4a6fa5"/>'
        )
        head.append(
            f'<text x="{x:g}" y="{TOP - 28}" class="lane" text-anchor="middle">'
            f"{_text(_fit(lane, 110))}</text>"
        )
    markers = "".join(
        f'<marker id="head-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
        for kind, colour in ARROW_COLOURS.items()
    )
    style = (
        "text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11px;"
        "fill:#1d1d1d}.title{font-size:15px;font-weight:bold}.lane{fill:#ffffff;"
        "font-weight:bold;font-size:12px}.ok{fill:#2e7d32}.err{fill:#c0392b}"
        ".note{font-weight:bold}.arrow{font-size:10px}.conflict{fill:#c0392b}"
        ".tailhead{font-weight:bold}"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{c.width:g}" height="{height:g}" '
        f'viewBox="0 0 {c.width:g} {height:g}">',
        f"<style>{style}</style>",
        f"<defs>{markers}</defs>",
        f'<rect width="{c.width:g}" height="{height:g}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="22" class="title">{_text(_fit(s.title, c.width - 40))}</text>',
        *head,
        *c.parts,
        "</svg>",
    ]
    return "\n".join(out) + "\n"


__all__ = ["as_svg"]

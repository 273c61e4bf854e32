"""Text cut or wrapped to a width by us, so its height is known before Textual lays it out."""

from __future__ import annotations

import textwrap

from rich.text import Text


def _wrap(line: Text, width: int) -> list[Text]:
    """A line wrapped at spaces (a word longer than `width` is split); the lines after the
    first keep its indent."""
    plain = line.plain
    if line.cell_len <= width:
        return [line]
    indent = " " * min(len(plain) - len(plain.lstrip(" ")), width // 2)
    wide = line.cell_len - len(plain)  # the extra cells of wide characters (⏳)
    wrapper = textwrap.TextWrapper(width=max(4, width - len(indent) - wide), break_on_hyphens=False)
    wrapper.drop_whitespace = False
    pieces = wrapper.wrap(plain[len(indent) :])
    offsets, at = [], len(indent)
    for piece in pieces[:-1]:
        at += len(piece)
        offsets.append(at)
    parts = list(line.divide(offsets)) if offsets else [line]
    out = [parts[0]]
    for part in parts[1:]:
        part.rstrip()
        lead = len(part.plain) - len(part.plain.lstrip(" "))
        out.append(Text(indent) + part[lead:])
    return out


def fit(text: Text, width: int) -> Text:
    """Each line of `text` within `width` cells: a queue item's first line (what it runs)
    is cut with '…', the lines under it (how it went, why it waits) wrap under their
    indent; a text that wraps (no_wrap False) wraps every line. Textual's OptionList wraps
    a prompt itself (a Text's no_wrap is lost), so a line one cell too wide used to spill
    onto a line of its own, and its height was not known."""
    width = max(8, width)
    lines: list[Text] = []
    for i, line in enumerate(text.split("\n", allow_blank=True)):
        if text.no_wrap and i == 0:
            if line.cell_len > width:
                line.truncate(width, overflow="ellipsis")
            lines.append(line)
        else:
            lines.extend(_wrap(line, width))
    out = Text("\n").join(lines)
    out.no_wrap = text.no_wrap
    return out


def height(text: Text) -> int:
    """Lines of a fitted text."""
    return text.plain.count("\n") + 1

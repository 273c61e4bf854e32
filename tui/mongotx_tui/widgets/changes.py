"""A lane's view with what changed first: `~ 'alice' balance: 100 → 90`, then the rest."""

from __future__ import annotations

from rich.text import Text

from ..model.changes import change_words, field_changes
from ..model.lanes import Lane, OpStatus, TxnState, ViewDoc
from ..model.literals import format_short
from .render import MARK_STYLE, STATE_STYLE, doc_line, no_view_reason

INDENT = "  "  # under the mark of the document above


def doc_changes(doc: ViewDoc, width: int) -> Text:
    """One document the transaction changed, inserted or deleted, its changes first: on one
    line when it fits, else its _id then one field a line (wrapped, never cut: the new value
    is the point of the demo)."""
    mark, style = doc.mark, MARK_STYLE[doc.mark]
    head = f"{mark} {format_short(doc.doc.get('_id'))}"
    if mark == "~" and doc.session is not None and doc.committed is not None:
        parts = [change_words(c) for c in field_changes(doc.committed, doc.session)]
    elif mark == "-":
        parts = ["deleted"]
    else:
        rest = {k: v for k, v in doc.doc.items() if k != "_id"}
        parts = [format_short(rest)]
    one = f"{head} {', '.join(parts)}"
    text = Text(no_wrap=False, overflow="fold")
    if len(one) <= width:
        text.append(one, style=style)
        return text
    text.append(head, style=style)
    for part in parts:
        text.append("\n" + INDENT + part, style=style)
    return text


def view_changes(docs: list[ViewDoc] | None, width: int, unchanged: bool = True) -> Text:
    """The changed documents first, then (with `unchanged`) the others, dim, each cut to
    the width."""
    text = Text(no_wrap=False, overflow="fold")
    if docs is None:
        return text
    lines: list[Text] = [doc_changes(d, width) for d in docs if d.mark != " "]
    if unchanged:
        for d in docs:
            if d.mark == " ":
                line = Text(INDENT + doc_line(d.doc), style="dim")
                line.truncate(width, overflow="ellipsis")
                lines.append(line)
    return Text("\n", no_wrap=False, overflow="fold").join(lines)


def view_heading(docs: list[ViewDoc]) -> str:
    changed = sum(1 for d in docs if d.mark != " ")
    return (
        f"inside txn: {changed} differ from committed"
        if changed
        else "inside txn: same as committed"
    )


def last_outcome(lane: Lane) -> Text | None:
    """The lane's latest finished (or running) queue item: `✓ update 'alice' · matched 1…`."""
    for item in reversed(lane.queue):
        if item.status is OpStatus.PENDING:
            continue
        text = Text()
        label = item.label(30, collection=False)
        if item.status is OpStatus.RUNNING:
            text.append(f"⏵ {label}", style="bold yellow")
            if item.waiting:
                text.append(" ⏳ waiting", style="yellow")
        elif item.error is not None:
            text.append(f"✗ {item.error.one_line()}", style="bold red")
            text.append(f" · {label}", style="dim")
        else:
            text.append(f"✓ {item.summary}", style="green")
            text.append(f" · {label}", style="dim")
        return text
    return None


def compact_lane(lane: Lane, docs: list[ViewDoc] | None, note: str, width: int) -> Text:
    """A narrow lane: its state line, its last outcome and what is queued, then the changed
    documents with their old → new values (the focused lane shows everything)."""
    text = Text(no_wrap=False, overflow="fold")
    state = lane.txn_state
    text.append(state.value, style=STATE_STYLE[state])
    if lane.txn_number is not None and state is not TxnState.NONE:
        text.append(f" · txn {lane.txn_number}", style="dim")
    if lane.busy:
        text.append(f" · ⏵ {lane.busy}", style="yellow")
    parts = [text]
    outcome = last_outcome(lane)
    if outcome is not None:
        outcome.truncate(width, overflow="ellipsis")
        parts.append(outcome)
    elif lane.last_error is not None:
        parts.append(Text(f"✗ {lane.last_error.one_line()}", style="bold red"))
    pending = sum(item.status is OpStatus.PENDING for item in lane.queue)
    if pending:
        parts.append(Text(f"{pending} queued", style="dim"))
    if docs is None:
        if state is not TxnState.NONE:  # else the state line says it all
            parts.append(Text(no_view_reason(lane, note), style="dim"))
    elif any(d.mark != " " for d in docs):
        parts.append(view_changes(docs, width, unchanged=False))
    else:
        parts.append(Text("same as committed", style="dim"))
    return Text("\n", no_wrap=False, overflow="fold").join(parts)

"""`mongotx-tui run NAME --diagram FILE`: the run drawn as a sequence diagram (model.diagram)
in SVG, Mermaid and plain text. The SVG of g2-item is the README's picture and this test's
snapshot: set MONGOTX_UPDATE_DIAGRAM=1 to write it again (then look at it)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mongotx_tui.cli import main
from mongotx_tui.model.anomalies import analyse
from mongotx_tui.model.diagram import as_mermaid, as_text, story
from mongotx_tui.model.diagram_svg import as_svg
from mongotx_tui.model.history import History, Step, access_of

SNAPSHOT = Path(__file__).parents[2] / "screenshots" / "diagram-g2-item.svg"


def test_the_svg_of_a_run_matches_its_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g2-item.svg"
    assert main(["run", "g2-item", "--diagram", str(out)]) == 0
    assert f"diagram written to {out}" in capsys.readouterr().err
    svg = out.read_text(encoding="utf-8")
    ET.fromstring(svg)  # well-formed XML
    if os.environ.get("MONGOTX_UPDATE_DIAGRAM"):
        SNAPSHOT.write_text(svg, encoding="utf-8")
    assert svg == SNAPSHOT.read_text(encoding="utf-8")
    # what a reader must find in it: the lanes, the conflict, the anomaly, the values
    texts = [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert {"T1", "T2", "R"} <= set(texts)
    assert "WriteConflict" in texts
    assert any(t.startswith("G2-item (write skew): T1 txn") for t in texts)
    assert '{"_id": 1, "value": 5}' in texts


@pytest.mark.parametrize("suffix", [".md", ".txt"])
def test_mermaid_and_text(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"p4{suffix}"
    assert main(["run", "p4", "--diagram", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "WriteConflict prevented G-single" in text
    if suffix == ".md":
        assert "```mermaid\nsequenceDiagram\n    participant L1 as T1\n" in text
        assert "    L2-xL1: WriteConflict" in text  # T2's write refused: T1 holds it
    else:
        assert text.splitlines()[2].split() == ["#", "T1", "T2", "R"]


def test_a_bad_extension_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "p4", "--diagram", str(tmp_path / "x.png")]) == 2
    assert "must end in .svg, .md or .txt" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_every_text_is_escaped() -> None:
    """Lane names, statements and outcomes are the user's: they never become markup."""
    h = History()
    evil = '<script>alert("x")</script> & ; # %%'
    h.record(Step(evil, "find", evil, evil, True, access=access_of("find", "c", {}, [])))
    h.record(Step("B", "update", "u", "112 WriteConflict", False, code=112, conflict_with=evil))
    drawn = story(h, analyse(h), title=evil, final={"c": [{"_id": evil}]})
    svg = as_svg(drawn)
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t and t.startswith('<script>alert("x")') for t in texts)
    md = as_mermaid(drawn)
    body = md.split("```mermaid", 1)[1].split("```", 1)[0]
    assert '#lt;script#gt;alert("x")#lt;/script#gt; #amp; #59; #35; #37;#37;' in body
    assert "<" not in body and "&" not in body and "%%" not in body
    assert evil.split()[0] in as_text(drawn)

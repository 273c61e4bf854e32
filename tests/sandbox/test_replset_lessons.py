"""Issue 13 item 6 (a start): lessons that need a three-member set, run headless with
`mongotx-tui run FILE URI` against one; each must pass every step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mongotx_sandbox import ThreadedSandbox

LESSONS = sorted((Path(__file__).parent / "lessons").glob("*.yaml"))


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_passes_headless(lesson: Path) -> None:
    with ThreadedSandbox(members=3, election_timeout_ms=300) as uri:
        result = subprocess.run(
            [sys.executable, "-m", "mongotx_tui", "run", str(lesson), uri],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "steps as expected" in result.stdout

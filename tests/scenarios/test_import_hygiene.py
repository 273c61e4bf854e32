"""The scenario package never imports textual or rich (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "mongotx_tui.scenario",
    "mongotx_tui.cli",
    "mongotx_tui.backend.headless",
    "mongotx_tui.scenario.export",
    "mongotx_tui.backend.play",
    "mongotx_tui.scenario.save",
]
CODE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from mongotx_tui.scenario import load_scenario
load_scenario("p4")
print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))
"""


def test_scenario_package_imports_no_ui() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE, *MODULES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == ""

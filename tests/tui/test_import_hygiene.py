"""model/ and backend/ never import textual or rich (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "mongotx_tui",
    "mongotx_tui.config",
    "mongotx_tui.model.literals",
    "mongotx_tui.model.ops",
    "mongotx_tui.model.lanes",
    "mongotx_tui.model.naming",
    "mongotx_tui.model.error_info",
    "mongotx_tui.model.timeline",
    "mongotx_tui.model.journal",
    "mongotx_tui.backend.connection",
    "mongotx_tui.backend.operations",
    "mongotx_tui.backend.lane_runner",
    "mongotx_tui.backend.watchers",
    "mongotx_tui.backend.workbench",
]

CODE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from mongotx_tui.model.literals import parse_value
parse_value("{a: ObjectId('64b7f0c2a1b2c3d4e5f60718')}")
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))
print(','.join(bad))
"""


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_imports_no_ui(module):
    out = subprocess.run(
        [sys.executable, "-c", CODE, module], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"{module} pulled in {out.stdout.strip()}"


def test_whole_core_together_imports_no_ui():
    out = subprocess.run(
        [sys.executable, "-c", CODE, *HEADLESS],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == ""

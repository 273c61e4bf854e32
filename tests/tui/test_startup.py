"""Start-up: what main() switches off for speed comes back, and the first imports stay light."""

from __future__ import annotations

import gc
import subprocess
import sys

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config


async def test_gc_is_back_on_once_the_workbench_is_ready() -> None:
    gc.disable()  # what main() does before the app starts
    try:
        app = MongoTxApp(config=Config())
        async with app.run_test(size=(100, 30)) as pilot:
            await walkthroughs.ready(pilot)
            assert gc.isenabled(), "cyclic GC must be on again once the workbench is ready"
    finally:
        gc.enable()


def test_subcommand_check_does_not_load_scenarios() -> None:
    # `mongotx-tui` imports mongotx_tui.cli at every start to look for a subcommand.
    code = (
        "import sys; from mongotx_tui.cli import main; main(['x']); "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('yaml', 'textual', 'pymongo') or m.startswith('mongotx_tui.scenario.loader'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""

"""Regenerate screenshots/*.svg from the real app on the embedded sandbox.

    python scripts/screenshots.py            # all scenes, 120x36
    python scripts/screenshots.py --size 80x24

Each scene drives the app with a Pilot (mongotx_tui.walkthroughs) and saves an SVG with
App.save_screenshot. Never edit the SVGs by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config

SCENES = {
    "workbench": walkthroughs.started,
    "write-conflict": walkthroughs.conflict,
    "four-lanes": walkthroughs.four_lanes,
    "committed-after-conflict": walkthroughs.conflict_then_commit,
    "blocked-write": walkthroughs.blocked,
    "editor-invalid-input": walkthroughs.invalid_editor,
    "help": walkthroughs.help_screen,
    "scenario": walkthroughs.scenario_conflict,
    "command-monitor": walkthroughs.commit_retried,
    "server-view": walkthroughs.server_view,
    "presenter": walkthroughs.presenter_conflict,
}
OUT = Path(__file__).resolve().parent.parent / "screenshots"


async def shoot(name: str, size: tuple[int, int], theme: str | None) -> Path:
    app = MongoTxApp(config=Config(theme=theme))
    async with app.run_test(size=size) as pilot:
        await SCENES[name](pilot)
        await pilot.pause(0.2)
        suffix = f"-{theme}" if theme else ""
        path = OUT / f"{name}{suffix}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    # Drafts the scenes autosave go to a throwaway folder, not the user's data dir.
    os.environ.setdefault("MONGOTX_TUI_DATA_DIR", tempfile.mkdtemp(prefix="mongotx-shots-"))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--theme", default=None, help="a Textual theme name, e.g. textual-light")
    parser.add_argument("scenes", nargs="*", default=list(SCENES))
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    OUT.mkdir(exist_ok=True)
    for name in args.scenes:
        path = await shoot(name, (width, height), args.theme)
        print(f"wrote {path.relative_to(OUT.parent)}")


if __name__ == "__main__":
    asyncio.run(main())

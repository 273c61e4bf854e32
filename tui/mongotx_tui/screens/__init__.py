"""The app's screens: the workbench and its dialogs."""

from pathlib import Path

# Every dialog's CSS_PATH: read when the first dialog opens, not at start-up.
DIALOGS_CSS = Path(__file__).parent / "dialogs.tcss"
LIVE_VIEW = "live-view"  # the live view's name among the installed screens (proxy_dialog)

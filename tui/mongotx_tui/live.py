"""`mongotx-tui proxy URI` in a terminal: the workbench on the sandbox with the live view
of the application's sessions on top (issue 12 item 2). The proxy forwards in a process
of its own (backend/proxy) for as long as the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .app import MongoTxApp


class LiveViewApp(MongoTxApp):
    """The workbench (on the sandbox, to step a capture by hand) and the live view."""

    def __init__(self, proxy: Any, upstream_uri: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.proxy = proxy
        self.upstream_uri = upstream_uri  # for a capture's setup; never shown

    def on_mount(self) -> None:  # after MongoTxApp.on_mount (Textual calls both)
        from .screens.proxy_dialog import open_live_view

        open_live_view(self, self.proxy, owns=False, upstream_uri=self.upstream_uri)


def run_live_view(uri: str, listen: tuple[str, int], say: Callable[[str], None]) -> int:
    """Start the proxy and run the app until quit; a message and 2 when the proxy cannot
    start (a bad URI, the port taken)."""
    from .backend.connection import BadURI, mask_uri
    from .backend.proxy import start_proxy

    try:
        handle = start_proxy(uri, listen)
    except BadURI as exc:
        say(f"bad URI {mask_uri(uri)}: {exc}")
        return 2
    except OSError as exc:
        say(f"cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}")
        return 2
    try:
        LiveViewApp(handle, uri).run()
    finally:
        handle.stop()
    return 0

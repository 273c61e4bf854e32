"""`mongotx-tui serve [--host 127.0.0.1] [--port 8000]`: the workbench in a web browser.

textual-serve serves a page with a terminal (xterm.js) and, for each browser tab that
connects, starts the command below as a process of its own: each tab gets its own app,
its own embedded sandbox (on a free port) and its own folder for drafts and saved files,
deleted when the tab closes. `python -m mongotx_tui.serve --tab` is that command.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})

EXIT = """\
exit codes:
  0    stopped with ctrl+c
  2    bad arguments, or the address cannot be bound (in use, not this machine's)"""


def tab_command(present: bool = False, allow_connect: bool = False) -> str:
    """The shell command textual-serve runs for each tab: this Python, this package."""
    args = [sys.executable, "-m", "mongotx_tui.serve", "--tab"]
    if present:
        args.append("--present")
    if allow_connect:
        args.append("--allow-connect")
    return shlex.join(args)


# What whoever opens the page can do, whatever the address (said before serving, and in
# --help). The limits are enforced in a tab by backend/confine.py.
FILES = (
    "Each browser tab gets a workbench of its own (no shell) with a sandbox and a folder of "
    "its own; all end when the tab closes. Its load, save and export dialogs (l, w, p, D) "
    "read and write only in that folder (loading also reads the built-in scenarios), and "
    "a saved file is downloaded to the browser."
)
CONNECT_ALLOWED = (
    "--allow-connect is on: F2 connects a tab's workbench to any MongoDB server this "
    "machine can reach (one without authentication, or with credentials they know)."
)
CONNECT_REFUSED = (
    "F2 offers only the tab's own sandbox (--allow-connect would let it connect to any "
    "MongoDB server this machine can reach)."
)
COST = "The tabs run as your user, and each costs a process and its memory here."


def reach(allow_connect: bool) -> str:
    """What whoever opens the page can do with it."""
    return f"{FILES} {CONNECT_ALLOWED if allow_connect else CONNECT_REFUSED} {COST}"


def exposure(host: str, port: int, allow_connect: bool = False) -> str:
    """What serving on `host` means, said plainly (printed before anything is served)."""
    if host in LOOPBACK or host.startswith("127."):
        where = "Only this machine can open it."
        advice = "Use --host 0.0.0.0 (and --public-url) only on a network you trust."
    else:
        where = (
            f"EXPOSED: anyone who can reach port {port} of this machine ({host}) can open "
            "it. There is no login and no TLS."
        )
        advice = (
            "Serve it like this only on a network you trust (a classroom's), and stop it "
            "(ctrl+c) when the session is over."
        )
    return textwrap.fill(f"{where} {reach(allow_connect)} {advice}", 88)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mongotx-tui serve",
        description=textwrap.fill(
            "Serve the workbench in a web browser (textual-serve): each browser tab gets its "
            "own app process and its own embedded sandbox, a private playground per student.",
            88,
        ),
        epilog=EXIT
        + "\n\nwhat serving it means (with --host 0.0.0.0: to anyone who reaches the port):\n"
        + textwrap.fill(reach(False), 88, initial_indent="  ", subsequent_indent="  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; 0.0.0.0 "
        "exposes it to the network, read what it prints first)",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default 8000)")
    parser.add_argument(
        "--public-url",
        default=None,
        help="the address browsers use, e.g. http://192.168.1.20:8000 (needed with "
        "--host 0.0.0.0: the page tells the browser where to connect)",
    )
    parser.add_argument("--present", action="store_true", help="every tab in presenter mode")
    parser.add_argument(
        "--allow-connect",
        action="store_true",
        help="let F2 in every tab connect to any MongoDB server this machine can reach "
        "(default: each tab only has its own sandbox)",
    )
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {port}")
    return port


def _public_url(host: str, port: int) -> str:
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}"


def main(argv: list[str]) -> int:
    """`mongotx-tui serve ...`: serve until ctrl+c."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.host in WILDCARDS and not args.public_url:
        # The page tells the browser where its websocket is: 0.0.0.0 is no such address.
        parser.error(
            f"--host {args.host} listens on every address of this machine: add "
            f"--public-url http://ADDRESS:{args.port} with the address browsers reach it at"
        )
    url = args.public_url or _public_url(args.host, args.port)
    print(f"mongotx-tui: serving the workbench on {url}", file=sys.stderr)
    print(exposure(args.host, args.port, args.allow_connect), file=sys.stderr, flush=True)
    from textual_serve.server import Server

    server = Server(
        tab_command(args.present, args.allow_connect),
        host=args.host,
        port=args.port,
        title="mongotx-tui",
        public_url=url,
    )
    try:
        server.serve()
    except OSError as exc:  # the address is in use, or not one of this machine's
        print(
            f"mongotx-tui: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    return 0


def tab(argv: list[str]) -> int:
    """One browser tab's app: the workbench on its own sandbox, with a data folder of its
    own (drafts, saved scenarios) so that tabs never see each other's work."""
    import os
    import tempfile

    from .config import ENV_DATA

    present = "--present" in argv
    with tempfile.TemporaryDirectory(prefix="mongotx-tab-") as folder:
        os.environ[ENV_DATA] = folder
        from .app import MongoTxApp
        from .backend.confine import Served

        served = Served(Path(folder), allow_connect="--allow-connect" in argv)
        MongoTxApp(present=present, served=served).run()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--tab"]:
        sys.exit(tab(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))

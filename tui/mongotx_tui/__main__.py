"""`mongotx-tui [URI] [--db DB] [--collection C]` — with no URI, the embedded sandbox.

Also `mongotx-tui scenarios`, `mongotx-tui run SCENARIO [URI] [--json]` and
`mongotx-tui export SCENARIO [--async | --sync] [--with-transaction]`.
"""

from __future__ import annotations

import argparse
import sys


def _epilog() -> str:
    from .cli import COMMAND_HELP

    width = max(map(len, COMMAND_HELP))
    lines = ["commands (`mongotx-tui COMMAND --help` for each one's options and exit codes):"]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in COMMAND_HELP.items()]
    lines += [
        "",
        "exit codes of the workbench: 0 after quitting, 2 for a bad argument or URI.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mongotx-tui",
        usage="mongotx-tui [URI] [--db DB] [--collection C] [--present] [--members 3 | --sharded] "
        "| mongotx-tui COMMAND ...",
        description="Explore MongoDB sessions and transactions by hand. With no URI it starts\n"
        "an embedded sandbox (a one-member replica set) seeded with bank.accounts.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "uri", nargs="?", help="mongodb:// or mongodb+srv:// URI (any pymongo option)"
    )
    parser.add_argument(
        "--db", default=None, help="database to watch (default: bank, or the URI's)"
    )
    parser.add_argument("--collection", default="accounts", help="collection to watch")
    parser.add_argument(
        "--present",
        action="store_true",
        help="presenter mode, for a projector (P toggles it in the workbench)",
    )
    parser.add_argument(
        "--sharded",
        action="store_true",
        help="without a URI: start a sharded sandbox (a router, 2 shards; bank.accounts "
        "split so alice and bob are on different shards)",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=1,
        help="members of the embedded sandbox's replica set (3: primary and two secondaries, "
        "M shows them); not with a URI",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from .cli import main as scenario_main

    # `scenarios`, `run` and `export` are subcommands; anything else opens the workbench.
    try:
        if (rc := scenario_main(sys.argv[1:] if argv is None else argv)) is not None:
            return rc
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`mongotx-tui scenarios | head`): stop quietly.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    args = parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    db = args.db
    if not 1 <= args.members <= 7 or (args.members > 1 and args.uri):
        print(
            "mongotx-tui: --members is 1 to 7, for the embedded sandbox (no URI)", file=sys.stderr
        )
        return 2
    if args.sharded and (args.uri or args.members > 1):
        print(
            "mongotx-tui: --sharded starts its own sandbox cluster: not with a URI or --members",
            file=sys.stderr,
        )
        return 2
    if args.uri:
        from .backend.connection import BadURI, client_options, mask_uri

        try:
            client_options(args.uri)
        except BadURI as exc:
            print(f"mongotx-tui: bad URI {mask_uri(args.uri)}: {exc}", file=sys.stderr)
            return 2
        if db is None:
            from pymongo import uri_parser

            db = uri_parser.parse_uri(args.uri, validate=False, warn=False).get("database")
    cluster = None
    if args.sharded and not args.uri:
        from .backend.connection import start_sharded_sandbox

        cluster, args.uri = start_sharded_sandbox()
    import gc

    # Start-up allocates hundreds of thousands of objects (modules, styles, widgets) and none
    # of them is garbage yet: cyclic collection would only walk them, ~10% of the start.
    # The app turns it back on once the workbench is ready (MongoTxApp.resume_gc).
    gc.disable()
    from .app import MongoTxApp

    try:
        MongoTxApp(
            args.uri,
            db or "bank",
            args.collection,
            present=args.present,
            members=args.members,
            own_uri=args.uri if cluster is not None else None,
        ).run()
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

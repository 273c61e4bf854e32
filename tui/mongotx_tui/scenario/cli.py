"""`mongotx-tui scenarios | run SCENARIO [URI] [--json] | export SCENARIO [...]`.

`main(argv)` returns None when argv is not one of these subcommands, so the app's own
entry point can fall through to the workbench.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

COMMANDS = ("scenarios", "run", "export")
PREFIX = "mongotx_"  # = setup.PREFIX (kept here so that the parser needs no import)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mongotx-tui", description="Scenario commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the built-in scenarios")
    run = sub.add_parser(
        "run",
        help="run a scenario without the UI",
        description=(
            "Run a scenario without the UI. On a sandbox started for the run (no URI) its "
            "collections are dropped and refilled. On a deployment given by URI it runs in a "
            f"database of its own, {PREFIX}<database>, and leaves the others alone."
        ),
        epilog=(
            "exit status: 0 every step as expected, 1 a step was not, 2 the scenario could "
            "not be read or run, 3 refused: it would drop a collection holding data "
            "(see --allow-drop)"
        ),
    )
    run.add_argument("scenario", help="a built-in name or a scenario file")
    run.add_argument("uri", nargs="?", help="server URI (default: a sandbox started for the run)")
    run.add_argument("--json", action="store_true", help="print the run record as JSON")
    run.add_argument(
        "--in-place",
        action="store_true",
        help="with a URI: run in the database the scenario names instead of its own; a "
        "collection there that holds data is not dropped without --allow-drop",
    )
    run.add_argument(
        "--allow-drop",
        action="store_true",
        help="with a URI: run in the database the scenario names and drop and refill its "
        "collections even if they hold data (implies --in-place)",
    )
    export = sub.add_parser("export", help="print the scenario as a pymongo script")
    export.add_argument("scenario", help="a built-in name or a scenario file")
    style = export.add_mutually_exclusive_group()
    style.add_argument("--sync", action="store_true", help="MongoClient (the default)")
    style.add_argument("--async", dest="aio", action="store_true", help="AsyncMongoClient")
    export.add_argument(
        "--with-transaction", action="store_true", help="use with_transaction callbacks"
    )
    return parser


def _load(target: str):  # type: ignore[no-untyped-def]
    from .loader import ScenarioError, load_scenario

    try:
        return load_scenario(target)
    except FileNotFoundError as exc:
        print(f"mongotx-tui: {exc}", file=sys.stderr)
    except ScenarioError as exc:
        print(f"mongotx-tui: malformed scenario\n{exc}", file=sys.stderr)
    return None


def _list() -> int:
    from .library import builtin_names
    from .loader import load_scenario

    names = builtin_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name.ljust(width)}  {load_scenario(name).title}")
    return 0


def _where(scenario, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    """The first line of a run: which deployment, which database (before anything runs)."""
    from ..backend.connection import SANDBOX_NAME, mask_uri
    from .setup import run_database

    named = scenario.setup.database
    if args.uri is None:
        return f"deployment: {SANDBOX_NAME}, started for this run · database {named}"
    in_place = args.in_place or args.allow_drop
    database = run_database(named, own=False, in_place=in_place)
    line = f"deployment: {mask_uri(args.uri)} · database {database}"
    if database != named:
        line += f" (a database of its own; {named} is left alone unless --in-place)"
    return line


def _refused(scenario, args: argparse.Namespace, exc) -> None:  # type: ignore[no-untyped-def]
    from ..backend.connection import mask_uri
    from .setup import run_database

    own = run_database(scenario.setup.database, own=False)
    lines = [
        f"mongotx-tui: {scenario.name} not run: it drops and refills its collections, and on "
        f"{mask_uri(args.uri)} (not a sandbox this run started) these hold data:",
        *(f"  {o.describe()}" for o in exc.occupied),
        "Nothing was changed. Run it without --in-place to use a database of its own "
        f"({own}), or add --allow-drop to drop them.",
    ]
    print("\n".join(lines), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from .record import table
    from .runner import run_scenario
    from .setup import DropRefused

    scenario = _load(args.scenario)
    if scenario is None:
        return 2
    try:
        where = _where(scenario, args)
    except ValueError as exc:
        print(f"mongotx-tui: cannot run {scenario.name}: {exc}", file=sys.stderr)
        return 2
    print(where, file=sys.stderr if args.json else sys.stdout, flush=True)
    try:
        record = asyncio.run(
            run_scenario(scenario, args.uri, in_place=args.in_place, allow_drop=args.allow_drop)
        )
    except DropRefused as exc:
        _refused(scenario, args, exc)
        return 3
    except Exception as exc:
        print(f"mongotx-tui: cannot run {scenario.name}: {exc}", file=sys.stderr)
        return 2
    print(record.to_json() if args.json else table(record))
    return 0 if record.passed else 1


def _export(args: argparse.Namespace) -> int:
    from .export import export_script

    scenario = _load(args.scenario)
    if scenario is None:
        return 2
    sys.stdout.write(export_script(scenario, aio=args.aio, with_transaction=args.with_transaction))
    return 0


def main(argv: list[str] | None = None) -> int | None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        return None
    args = _parser().parse_args(argv)
    if args.command == "scenarios":
        return _list()
    if args.command == "run":
        return _run(args)
    return _export(args)

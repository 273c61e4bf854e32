"""`mongotx-tui scenarios | run SCENARIO [URI] [--json] | export SCENARIO [...]`.

`main(argv)` returns None when argv is not one of these subcommands, so the app's own
entry point can fall through to the workbench.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

COMMANDS = ("scenarios", "run", "export")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mongotx-tui", description="Scenario commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the built-in scenarios")
    run = sub.add_parser("run", help="run a scenario without the UI")
    run.add_argument("scenario", help="a built-in name or a scenario file")
    run.add_argument("uri", nargs="?", help="server URI (default: a sandbox started for the run)")
    run.add_argument("--json", action="store_true", help="print the run record as JSON")
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


def _run(args: argparse.Namespace) -> int:
    from .record import table
    from .runner import run_scenario

    scenario = _load(args.scenario)
    if scenario is None:
        return 2
    try:
        record = asyncio.run(run_scenario(scenario, args.uri))
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

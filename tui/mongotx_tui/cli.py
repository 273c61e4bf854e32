"""`mongotx-tui scenarios | run SCENARIO [URI] [--json] [--diagram FILE] | export SCENARIO
[...] | proxy URI | serve`.

`main(argv)` returns None when argv is not one of these subcommands, so the app's own
entry point can fall through to the workbench. Every failure is a message naming the file
or argument and an exit code, never a traceback; `run --json` prints a JSON record on
stdout whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
from typing import Any

# One line each: `mongotx-tui --help` lists them (see __main__.py).
COMMAND_HELP = {
    "scenarios": "list the built-in scenarios, one line each",
    "run": "run a scenario without the UI and check every step against what it expects",
    "export": "print a scenario as a runnable pymongo script",
    "proxy": "sit between an application and its deployment: print its statements, record them",
    "serve": "serve the workbench in a web browser, an app and a sandbox per tab",
}
COMMANDS = tuple(COMMAND_HELP)
PREFIX = "mongotx_"  # = setup.PREFIX (kept here so that the parser needs no import)

RUN_EXIT = """\
exit codes:
  0    every step did what the scenario expects
  1    a step did not (the table, or the JSON record, says which and why)
  2    the scenario could not be read (no such name or file, malformed file), the
       run could not be made (bad URI, no server reachable, the server failed the
       setup), the arguments are wrong, or the --diagram file could not be written
  3    refused: on a deployment given by URI, in place, it would drop a collection
       that holds data (see --allow-drop); nothing was changed
  130  interrupted (ctrl+c)

With --json, stdout always holds one JSON record: the run's, or one with "error"
({"kind": "usage" | "scenario" | "uri" | "connection" | "run" | "refused" | "interrupted"
| "diagram", "message", ...}). With --diagram, the run is also drawn as a sequence diagram
(one column per session, conflicts and waits as arrows, the anomalies the history shows,
the committed values); the file's extension picks the format: .svg, .md (Mermaid), .txt."""

EXPORT_EXIT = """\
exit codes:
  0  the script was printed
  2  the scenario could not be read (no such name or file, malformed file), or it holds
     a value that has no Python literal (the message names it)

The script is the scenario's values as literals plus fixed code: running it runs nothing
that the scenario file could write as code."""

PROXY_EXIT = """\
exit codes:
  0    stopped with ctrl+c (and the capture written, with --record)
  2    the URI or --listen is wrong, the port is taken, or the capture could not be
       written or fetched (the message says which)

The application connects to the proxy in plain TCP, whatever the upstream's TLS: keep
--listen on 127.0.0.1 (the default) unless every machine that can reach the port may
see the traffic. Authentication passes through untouched; credentials and SASL payloads
are never printed or recorded."""

SCENARIOS_EXIT = """\
exit codes:
  0  the list was printed"""


def _wrap(text: str) -> str:
    return textwrap.fill(text, 88)


class _Parser(argparse.ArgumentParser):
    """`run ... --json` with wrong arguments still prints its JSON record."""

    json_errors = False

    def error(self, message: str) -> Any:  # type: ignore[override]
        if self.json_errors:
            print(_error_record("", _Failed("usage", f"{self.prog}: {message}"), None, []))
        super().error(message)


def _parser(json_errors: bool = False) -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    _Parser.json_errors = json_errors
    parser = _Parser(prog="mongotx-tui", description="Scenario commands.", formatter_class=raw)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser(
        "scenarios",
        help=COMMAND_HELP["scenarios"],
        description=_wrap("List the built-in scenarios: name and title, one line each."),
        epilog=SCENARIOS_EXIT,
        formatter_class=raw,
    )
    run = sub.add_parser(
        "run",
        help=COMMAND_HELP["run"],
        description=_wrap(
            "Run a scenario headless: set up its collections, run every step in "
            "order across its sessions, and print a table of each step's outcome next to what "
            "the scenario expects. On a sandbox started for the run (no URI) its collections "
            "are dropped and refilled; on a deployment given by URI it runs in a database of "
            f"its own, {PREFIX}<database>, and leaves the others alone."
        ),
        epilog=RUN_EXIT,
        formatter_class=raw,
    )
    run.add_argument("scenario", help="a built-in name (see `mongotx-tui scenarios`) or a file")
    run.add_argument("uri", nargs="?", help="server URI (default: a sandbox started for the run)")
    run.add_argument("--json", action="store_true", help="print the run record as JSON")
    run.add_argument(
        "--diagram",
        metavar="FILE",
        help="also draw the run as a sequence diagram in FILE: .svg, .md (Mermaid) or .txt",
    )
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
    export = sub.add_parser(
        "export",
        help=COMMAND_HELP["export"],
        description=_wrap(
            "Print the scenario as a Python script that runs the same steps with "
            "pymongo (python SCRIPT [URI]; without a URI it starts the sandbox)."
        ),
        epilog=EXPORT_EXIT,
        formatter_class=raw,
    )
    export.add_argument("scenario", help="a built-in name (see `mongotx-tui scenarios`) or a file")
    style = export.add_mutually_exclusive_group()
    style.add_argument("--sync", action="store_true", help="MongoClient (the default)")
    style.add_argument("--async", dest="aio", action="store_true", help="AsyncMongoClient")
    export.add_argument(
        "--with-transaction", action="store_true", help="use with_transaction callbacks"
    )
    proxy = sub.add_parser(
        "proxy",
        help=COMMAND_HELP["proxy"],
        description=_wrap(
            "Listen on a local port and forward every message to the upstream deployment as "
            "it came (only the handshake's compression offer and hello's member addresses are "
            "rewritten, so that the driver stays on the proxy), and print one line per "
            "statement: connection, session, transaction, command, outcome. Each further "
            "replica set member gets a local port of its own, opened when a hello names it."
        ),
        epilog=PROXY_EXIT,
        formatter_class=raw,
    )
    proxy.add_argument("uri", help="the upstream deployment (mongodb:// or mongodb+srv://)")
    proxy.add_argument(
        "--listen",
        default="127.0.0.1:27018",
        type=_address,
        help="HOST:PORT to listen on (default 127.0.0.1:27018; port 0 picks a free one)",
    )
    proxy.add_argument(
        "--record", metavar="FILE", help="on exit (ctrl+c), write the traffic as a scenario file"
    )
    proxy.add_argument(
        "--fetch-setup",
        action="store_true",
        help="with --record: read the documents the statements touched from the upstream "
        "when saving (finds only) for the scenario's setup, instead of those the replies "
        "showed",
    )
    proxy.add_argument(
        "--headless",
        action="store_true",
        help="print a line per statement instead of opening the live view (the default "
        "when not in a terminal, or with --record)",
    )
    return parser


def _address(text: str) -> tuple[str, int]:
    """--listen: HOST:PORT ([::1]:PORT for IPv6), port 0-65535."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (port 0-65535)")
    return host, int(port)


def _printable(text: str) -> str:
    """What is printed: characters that are not printable (control characters, terminal
    escapes, lone surrogates from a YAML escape) written as escapes, line breaks kept."""
    return "\n".join(
        "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line)
        for line in text.split("\n")
    )


def _say(text: str) -> None:
    print(f"mongotx-tui: {_printable(text)}", file=sys.stderr)


class _Failed(Exception):
    """A run that could not be made: kind, message and details for the JSON record."""

    def __init__(self, kind: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details


def _load(target: str):  # type: ignore[no-untyped-def]
    from .scenario.loader import ScenarioError, load_scenario

    try:
        return load_scenario(target)
    except FileNotFoundError as exc:
        raise _Failed("scenario", str(exc)) from None
    except ScenarioError as exc:
        problems = [
            {"file": exc.source, "line": line, "problem": problem} for line, problem in exc.problems
        ]
        malformed = any(line for line, _ in exc.problems)
        message = f"malformed scenario\n{exc}" if malformed else str(exc)
        raise _Failed("scenario", message, problems=problems) from None


def _list() -> int:
    from .scenario.library import builtin_names, sharded_names
    from .scenario.loader import load_scenario

    names = builtin_names()
    sharded = sharded_names()
    width = max(map(len, names + sharded))
    for name in names:
        print(f"{name.ljust(width)}  {load_scenario(name).title}")
    for name in sharded:  # `run` starts a sharded sandbox for them
        print(f"{name.ljust(width)}  {load_scenario(name).title} [sharded cluster]")
    return 0


def _where(scenario, args: argparse.Namespace) -> str:  # type: ignore[no-untyped-def]
    """The first line of a run: which deployment, which database (before anything runs)."""
    from .backend.connection import SANDBOX_NAME, mask_uri
    from .scenario.placement import run_database

    named = scenario.setup.database
    if args.uri is None and scenario.sharded:
        routers = "2 routers" if _needs_two_routers(scenario) else "a router"
        sandbox = f"a sharded sandbox ({routers}, 2 shards)"
        return f"deployment: {sandbox}, started for this run · database {named}"
    if args.uri is None:
        members = f" of {scenario.members} members" if scenario.members > 1 else ""
        return f"deployment: {SANDBOX_NAME}{members}, started for this run · database {named}"
    in_place = args.in_place or args.allow_drop
    database = run_database(named, own=False, in_place=in_place)
    line = f"deployment: {mask_uri(args.uri)} · database {database}"
    if database != named:
        line += f" (a database of its own; {named} is left alone unless --in-place)"
    return line


def _needs_two_routers(scenario) -> bool:  # type: ignore[no-untyped-def]
    """A lesson that recovers a commit through another router (a `recoverCommit` step)."""
    from .model.ops import StepAction

    return any(step.action == StepAction.RECOVER_COMMIT for step in scenario.steps)


def _refused(scenario, args: argparse.Namespace, exc) -> str:  # type: ignore[no-untyped-def]
    from .backend.connection import mask_uri
    from .scenario.placement import run_database

    own = run_database(scenario.setup.database, own=False)
    lines = [
        f"{scenario.name} not run: it drops and refills its collections, and on "
        f"{mask_uri(args.uri)} (not a sandbox this run started) these hold data:",
        *(f"  {o.describe()}" for o in exc.occupied),
        "Nothing was changed. Run it without --in-place to use a database of its own "
        f"({own}), or add --allow-drop to drop them.",
    ]
    return "\n".join(lines)


def _failure(exc: BaseException) -> _Failed:
    """What kind of failure stopped a run, in words (pymongo's errors name the server)."""
    from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

    text = str(exc).split(", Timeout:")[0]  # pymongo appends its topology description
    if isinstance(exc, ConfigurationError):
        return _Failed("uri", f"bad URI: {text}")
    if isinstance(exc, ConnectionFailure):
        return _Failed("connection", f"cannot reach the server: {text}")
    if isinstance(exc, PyMongoError):
        return _Failed("run", f"the server refused the run: {text}")
    return _Failed("run", f"{type(exc).__name__}: {text}")


def _error_record(target: str, failed: _Failed, scenario: Any, steps: list[Any]) -> str:
    from dataclasses import asdict

    from bson import json_util

    data = {
        "scenario": scenario.name if scenario is not None else target,
        "title": scenario.title if scenario is not None else "",
        "passed": False,
        "error": {"kind": failed.kind, "message": failed.message, **failed.details},
        "steps": [asdict(s) for s in steps],
    }
    options = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
    return json_util.dumps(data, json_options=options, indent=2)


def _run(args: argparse.Namespace) -> int:
    from .backend.headless import TooFewMembers, run_scenario
    from .backend.setup import DropRefused, SetupNotReplicated
    from .scenario.record import StepRecord, table

    scenario = None
    done: list[StepRecord] = []
    try:
        scenario = _load(args.scenario)
        if args.uri is not None:
            from .backend.connection import BadURI, client_options, mask_uri

            try:
                client_options(args.uri)
            except BadURI as exc:
                raise _Failed("uri", f"bad URI {mask_uri(args.uri)}: {exc}") from None
        try:
            where = _where(scenario, args)
        except ValueError as exc:
            raise _Failed("scenario", str(exc)) from None
        if args.diagram is not None:
            from .model.diagram_files import format_problem

            problem = format_problem(args.diagram)
            if problem is not None:
                raise _Failed("diagram", f"--diagram {args.diagram}: {problem}")
        print(where, file=sys.stderr if args.json else sys.stdout, flush=True)
        from .model.history import History

        history = History()
        cluster = None
        if scenario.sharded and args.uri is None:
            # Its steps shard collections: a sharded sandbox of its own, in place (ours).
            from mongotx_sandbox import ThreadedShardedSandbox

            cluster = ThreadedShardedSandbox()
            args.uri = cluster.start()
            if _needs_two_routers(scenario):
                # A second router over the same shards, so that a commit recovered with
                # the recovery token goes through a router that never saw the transaction.
                second = cluster.call(cluster.cluster.add_router)
                hosts = [u.partition("://")[2].partition("/")[0] for u in (args.uri, second)]
                args.uri = f"mongodb://{','.join(hosts)}/"
            args.in_place = args.allow_drop = True
        try:
            record = asyncio.run(
                run_scenario(
                    scenario,
                    args.uri,
                    on_step=done.append,
                    in_place=args.in_place,
                    allow_drop=args.allow_drop,
                    history=history,
                )
            )
        except DropRefused as exc:
            raise _Failed("refused", _refused(scenario, args, exc)) from None
        except TooFewMembers as exc:
            raise _Failed("members", str(exc)) from None
        except SetupNotReplicated as exc:
            raise _Failed("run", str(exc)) from None
        except ValueError as exc:  # placement: where it would run, in words
            raise _Failed("run", str(exc)) from None
        except KeyboardInterrupt:
            raise _Failed("interrupted", "interrupted (ctrl+c)") from None
        except Exception as exc:
            raise _failure(exc) from None
        finally:
            if cluster is not None:
                cluster.stop()
    except _Failed as failed:
        if args.json:
            print(_error_record(args.scenario, failed, scenario, done))
        name = f"cannot run {scenario.name}: " if scenario is not None else ""
        if failed.kind == "refused":
            _say(failed.message)
            return 3
        _say(name + failed.message)
        return 130 if failed.kind == "interrupted" else 2
    print(record.to_json() if args.json else _printable(table(record)))
    if args.diagram is not None and not _write_diagram(args.diagram, scenario, record, history):
        return 2
    return 0 if record.passed else 1


def _write_diagram(path: str, scenario: Any, record: Any, history: Any) -> bool:
    """Draw the run (model.diagram) into `path`; say where it went, or why it could not."""
    from pathlib import Path

    from .model.anomalies import analyse
    from .model.diagram import story
    from .model.diagram_files import render

    drawn = story(
        history,
        analyse(history),
        title=f"{scenario.title} ({scenario.name})",
        lanes=[s.name for s in scenario.sessions],
        final=record.final,
    )
    target = Path(path).expanduser()
    try:
        target.write_text(render(drawn, target.name), encoding="utf-8")
    except OSError as exc:
        _say(f"cannot write the diagram to {path}: {exc.strerror or 'write failed'}")
        return False
    _say(f"diagram written to {target.resolve()}")
    return True


def _export(args: argparse.Namespace) -> int:
    from .scenario.export import export_script
    from .scenario.pyliteral import ExportError

    try:
        scenario = _load(args.scenario)
    except _Failed as failed:
        _say(failed.message)
        return 2
    try:
        code = export_script(scenario, aio=args.aio, with_transaction=args.with_transaction)
    except ExportError as exc:
        _say(f"cannot export {scenario.source}: {exc}")
        return 2
    sys.stdout.write(code)
    return 0


def main(argv: list[str] | None = None) -> int | None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        return None
    if argv[0] == "serve":  # its own parser (serve.py): it imports textual-serve
        from .serve import main as serve_main

        return serve_main(argv[1:])
    args = _parser(json_errors=argv[0] == "run" and "--json" in argv).parse_args(argv)
    if args.command == "scenarios":
        return _list()
    if args.command == "run":
        return _run(args)
    if args.command == "proxy":
        if not (args.headless or args.record) and sys.stdin.isatty() and sys.stdout.isatty():
            from .live import run_live_view

            return run_live_view(args.uri, args.listen, _say)
        from .backend.proxy.command import run_proxy

        return run_proxy(args.uri, args.listen, args.record, args.fetch_setup, _say)
    return _export(args)

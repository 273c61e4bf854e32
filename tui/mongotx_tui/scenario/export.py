"""Export a scenario as a runnable pymongo script (sync or async, explicit or with_transaction)."""

from __future__ import annotations

import re
import textwrap
from string import Template

from ..model.ops import StepAction
from .codegen import client_args, session_args
from .definition import Scenario, Step
from .templates import (
    HEADER,
    HELPERS,
    MAIN_ASYNC,
    MAIN_SYNC,
    PREPARE,
    RECOVER,
    STEP_ASYNC,
    STEP_SYNC,
)
from .txn_templates import runtime
from .withtxn import InterleavedBody, explicit_notes, flat
from .writer import INDENT, ScriptWriter


def _body(w: ScriptWriter) -> None:
    if w.with_txn:
        interleaved = InterleavedBody(w)
        if interleaved.chains:
            w.interleaved = True
            interleaved.write()
            return
        for note in explicit_notes(w):  # no transaction can be a callback
            w.emit(f"report({w.lit('note: ' + note)})")
    steps = w.scenario.steps
    releases: dict[int, list[Step]] = {}
    for s in steps:
        if s.expect.blocks_until is not None:
            releases.setdefault(s.expect.blocks_until, []).append(s)
    for s in steps:
        w.step(s, blocked=s.expect.blocks_until is not None)
        for waiting in releases.get(s.index, []):
            if waiting.action != StepAction.SLEEP:
                w.await_released(waiting, s)


def docstring_text(text: str) -> str:
    """Text inside the script's docstring: backslashes and every double quote escaped (so
    nothing can close it), and characters that are not printable written as escapes."""
    lines = []
    for line in text.split("\n"):
        line = line.replace("\\", "\\\\").replace('"', '\\"')
        lines.append("".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line))
    return "\n".join(lines)


def _header(scenario: Scenario, filename: str) -> str:
    def wrap(text: str) -> str:
        return docstring_text("\n".join(textwrap.wrap(" ".join(text.split()), 88)))

    return Template(HEADER).substitute(
        title=docstring_text(" ".join(scenario.title.split())),
        name=docstring_text(" ".join(scenario.name.split())),
        description=wrap(scenario.description),
        verdict=wrap(scenario.verdict),
        filename=docstring_text(" ".join(filename.split())),
    )


def export_script(
    scenario: Scenario, *, aio: bool = False, with_transaction: bool = False, filename: str = ""
) -> str:
    """The scenario as a runnable Python script using pymongo."""
    w = ScriptWriter(scenario, aio, with_transaction)
    for s in scenario.sessions:
        w.names.session(s.name)
    for c in scenario.setup.collections:
        w.names.collection(c.name)
    _body(w)
    setup = {
        c.name: {
            "documents": c.documents,
            "indexes": [{"keys": i.keys, "unique": i.unique} for i in c.indexes],
        }
        for c in scenario.setup.collections
    }
    helpers = Template(HELPERS).substitute(
        database=w.lit(scenario.setup.database),
        setup=w.lit(setup),
        parameters=w.lit(scenario.setup.parameters),
    )
    failpoint = any(s.action == StepAction.FAIL_POINT for s in scenario.steps)
    off = '    ${aw}client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})\n'
    prepare = PREPARE.replace("$failpoint_off", off if failpoint else "")
    prepare = Template(prepare).substitute(
        {
            "def": "async def" if aio else "def",
            "aw": "await " if aio else "",
            "listed": "await listed" if aio else "list",
            "final_docs": (
                'await client[database][name].find({}, sort=[("_id", 1)]).to_list()'
                if aio
                else 'list(client[database][name].find({}, sort=[("_id", 1)]))'
            ),
            "client": "AsyncMongoClient[dict[str, Any]]" if aio else "MongoClient[dict[str, Any]]",
        }
    )
    main = MAIN_ASYNC if aio else MAIN_SYNC
    if w.interleaved:  # the listener shows the commit errors with_transaction handles
        main = main.replace("MongoClient(uri)", "MongoClient(uri, event_listeners=[COMMITS])")
        assert "event_listeners=[COMMITS]" in main, "MAIN no longer creates MongoClient(uri)"
    parts = [
        _header(scenario, filename or f"{scenario.name.replace('-', '_')}.py"),
        _explicit_comment(w),
        _imports(w, aio),
        helpers,
        STEP_ASYNC if aio else STEP_SYNC,
        RECOVER if w.uses_recovery else "",
        runtime(aio) if w.interleaved else "",
        prepare,
        _play(w, aio),
        main,
    ]
    return "".join(parts)


def _explicit_comment(w: ScriptWriter) -> str:
    """At the top of a with_transaction export: the transactions that stay explicit, and why
    (the script prints the same when it runs)."""
    notes = explicit_notes(w) if w.with_txn else []
    if not notes:
        return ""
    lines = ["", "# Not every transaction of this scenario can be a with_transaction callback:"]
    for note in notes:
        lines.extend("# " + line for line in textwrap.wrap(flat(note), 86))
    return "\n".join(lines) + "\n"


def _imports(w: ScriptWriter, aio: bool) -> str:
    std = ["import argparse", "import re", "import sys"]
    if aio:
        std += ["import asyncio", "import inspect"]
    if w.uses_time:
        std.append("import time")
    std.append("from collections.abc import Callable")
    if w.uses_pool:
        std.append("from concurrent.futures import ThreadPoolExecutor")
    if w.interleaved:
        std.append("import threading")
    std.append("from typing import Any")
    std.extend(sorted(i for i in w.lit.imports if i.startswith("import ")))
    std = list(dict.fromkeys(std))
    names = ["AsyncMongoClient" if aio else "MongoClient", "WriteConcern"]
    body = "\n".join(w.lines)
    if "ReturnDocument" in body:
        names.append("ReturnDocument")
    if "ReadPreference." in body:
        names.append("ReadPreference")
    if w.interleaved:
        names.append("monitoring")
    bson = sorted(i.removeprefix("from bson import ") for i in w.lit.imports if "bson" in i)
    third = [f"from bson import {', '.join(bson)}"] if bson else []
    third.append(f"from pymongo import {', '.join(sorted(names))}")
    errors = ["PyMongoError"]
    if w.uses_recovery:
        errors = ["InvalidOperation", "OperationFailure", "PyMongoError"]
    third.append(f"from pymongo.errors import {', '.join(errors)}")
    if "ReadConcern(" in body:
        third.append("from pymongo.read_concern import ReadConcern")
    std_sorted = sorted(s for s in std if s.startswith("import ")) + sorted(
        s for s in std if s.startswith("from ")
    )
    return (
        "\nfrom __future__ import annotations\n\n"
        + "\n".join(std_sorted)
        + "\n\n"
        + "\n".join(third)
        + "\n"
    )


def _play(w: ScriptWriter, aio: bool) -> str:
    kw = "async def" if aio else "def"
    client = "AsyncMongoClient" if aio else "MongoClient"
    out = [
        "",
        "",
        f"{kw} play(client: {client}[dict[str, Any]], database: str, uri: str) -> None:",
        '    """The scenario\'s steps, in order, each on its own session."""',
        "    db = client[database]",
    ]
    body = "\n".join(w.lines)
    for name, var in w.names.collections.items():
        if not re.search(rf"\b{var}\b", body):
            continue
        out.append(f"    {var} = db[{w.lit(name)}]")
    managers = []
    for name, var in w.names.sessions.items():
        if not re.search(rf"\b{var}\b", body):
            continue
        known = any(s.name == name for s in w.scenario.sessions)
        options = w.scenario.session(name).options if known else None
        owner = "client"
        if options is not None and options.client_args():  # retryWrites off: its own client
            owner = w.names.client(name)
            managers.append(f"{client}(uri, {client_args(options)}) as {owner}")
        args = session_args(options) if options is not None else ""
        managers.append(f"{owner}.start_session({args}) as {var}")
    if w.uses_pool:
        size = f"max_workers={w.pool_workers}" if w.pool_workers else ""
        managers.append(f"ThreadPoolExecutor({size}) as pool")
    lines = list(w.lines)
    if not any(line.strip() and not line.strip().startswith("#") for line in lines):
        lines.append(INDENT + "pass")  # every step is left out (with_transaction)
    if managers:
        out.append(f"    {'async with' if aio else 'with'} (")
        out.extend(f"        {m}," for m in managers)
        out.append("    ):")
    else:
        lines = [line[4:] for line in lines]  # no session to open
    out.extend(lines)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"

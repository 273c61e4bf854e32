"""The fixed parts of an exported script. `$`-placeholders are filled by export.py; ASYNC
parts are chosen by the variant."""

from __future__ import annotations

HEADER = '''"""$title: exported by mongotx-tui from the scenario "$name".

$description

Verdict: $verdict

Usage: python $filename [URI]
Without a URI the script starts the mongotx sandbox (when mongotx_sandbox is installed),
the only server on which the scenario's server parameters are applied.
"""
'''

HELPERS = '''
DATABASE = $database
SETUP = $setup
PARAMETERS = $parameters
LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")


def describe_error(exc: PyMongoError) -> str:
    """Code, name and labels of an error, and what the labels tell the application to do."""
    details = getattr(exc, "details", None) or {}
    code = getattr(exc, "code", None)
    name = details.get("codeName") or type(exc).__name__
    labels = [label for label in LABELS if exc.has_error_label(label)]
    text = f"error {code} {name}" if code is not None else f"error {name}"
    if labels:
        text += f" [{', '.join(labels)}]"
    if exc.has_error_label("TransientTransactionError"):
        return text + ": retry the whole transaction"
    if exc.has_error_label("UnknownTransactionCommitResult"):
        return text + ": retry the commit"
    return text + ": do not retry"


def report(text: str) -> None:
    """Print one step's lines with a single write: a blocked step finishing on another
    thread must not split them (print() writes the text and its newline separately)."""
    sys.stdout.write(text + "\\n")
    sys.stdout.flush()


def show(result: Any) -> str:
    """A short text for what an operation returned."""
    if hasattr(result, "modified_count"):
        return f"matched {result.matched_count}, modified {result.modified_count}"
    if hasattr(result, "deleted_count"):
        return f"deleted {result.deleted_count}"
    if hasattr(result, "inserted_id"):
        return f"inserted _id {result.inserted_id!r}"
    if isinstance(result, dict | list | int | str) and not isinstance(result, bool):
        return repr(result)
    return ""
'''

STEP_SYNC = '''

def step(number: int | str, who: str, what: str, action: Callable[[], Any], *, strict: bool = False) -> Any:
    """Run one step and print its outcome; `strict` re-raises errors (inside callbacks)."""
    try:
        result = action()
    except PyMongoError as exc:
        report(f"step {number} {who} {what}\\n    -> {describe_error(exc)}")
        if strict:
            raise
        return None
    report(f"step {number} {who} {what}\\n    -> ok {show(result)}".rstrip())
    return result
'''

STEP_ASYNC = '''

async def step(number: int | str, who: str, what: str, action: Callable[[], Any], *, strict: bool = False) -> Any:
    """Run one step and print its outcome; `strict` re-raises errors (inside callbacks)."""
    try:
        result = action()
        if inspect.isawaitable(result):
            result = await result
    except PyMongoError as exc:
        report(f"step {number} {who} {what}\\n    -> {describe_error(exc)}")
        if strict:
            raise
        return None
    report(f"step {number} {who} {what}\\n    -> ok {show(result)}".rstrip())
    return result


async def listed(cursor: Any) -> list[Any]:
    """The documents of a find or aggregate cursor."""
    if inspect.isawaitable(cursor):
        cursor = await cursor
    return await cursor.to_list()
'''

PREPARE = '''

$def prepare(client: $client) -> dict[str, Any]:
    """Refill the collections; set the server parameters on the sandbox only."""
    restore: dict[str, Any] = {}
    build = ${aw}client.admin.command("buildInfo")
    if PARAMETERS and build.get("sandbox") is True:
        query = {"getParameter": 1, **dict.fromkeys(PARAMETERS, 1)}
        old = ${aw}client.admin.command(query)
        restore = {key: old[key] for key in PARAMETERS}
        ${aw}client.admin.command({"setParameter": 1, **PARAMETERS})
    db = client.get_database(DATABASE, write_concern=WriteConcern("majority"))
    for name, spec in SETUP.items():
        ${aw}db.drop_collection(name)
        ${aw}db.create_collection(name)
        for index in spec["indexes"]:
            keys = list(index["keys"].items())
            ${aw}db[name].create_index(keys, unique=index["unique"])
        if spec["documents"]:
            ${aw}db[name].insert_many(spec["documents"])
    return restore


$def finish(client: $client, restore: dict[str, Any]) -> None:
    """Undo the fail point and parameters; print the collections' final contents."""
$failpoint_off    if restore:
        ${aw}client.admin.command({"setParameter": 1, **restore})
    for name in SETUP:
        docs = $final_docs
        report(f"final {name}: {docs}")
'''

MAIN_SYNC = """

def run(uri: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        restore = prepare(client)
        try:
            play(client)
        finally:
            finish(client, restore)
    finally:
        client.close()


def main() -> None:
    if len(sys.argv) > 1:
        run(sys.argv[1])
        return
    try:
        from mongotx_sandbox import ThreadedSandbox
    except ImportError:
        sys.exit(f"usage: python {sys.argv[0]} URI  (mongotx_sandbox is not installed)")
    with ThreadedSandbox() as uri:
        run(uri)


if __name__ == "__main__":
    main()
"""

MAIN_ASYNC = """

async def run(uri: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        restore = await prepare(client)
        try:
            await play(client)
        finally:
            await finish(client, restore)
    finally:
        await client.close()


async def main() -> None:
    if len(sys.argv) > 1:
        await run(sys.argv[1])
        return
    try:
        from mongotx_sandbox import SandboxServer
    except ImportError:
        sys.exit(f"usage: python {sys.argv[0]} URI  (mongotx_sandbox is not installed)")
    async with SandboxServer() as uri:
        await run(uri)


if __name__ == "__main__":
    asyncio.run(main())
"""

"""The fixed parts of an exported script. `$`-placeholders are filled by export.py; ASYNC
parts are chosen by the variant."""

from __future__ import annotations

HEADER = '''"""$title: exported by mongotx-tui from the scenario "$name".

$description

Verdict: $verdict

Usage: python $filename [URI] [--in-place] [--allow-drop]
Without a URI the script starts the mongotx sandbox (when mongotx_sandbox is installed)
and drops and refills the scenario's collections there; the scenario's server parameters
are applied only on a mongotx sandbox. With a URI it runs in a database of its own,
mongotx_<database>, and leaves every other database alone. --in-place runs it in the
database the scenario names, and refuses (exit status 3, nothing changed) to drop a
collection there that holds data unless --allow-drop is given.
"""
'''

HELPERS = '''
DATABASE = $database
SETUP = $setup
PARAMETERS = $parameters
LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")
PREFIX = "mongotx_"  # with a URI the scenario runs in PREFIX + DATABASE unless --in-place


class Refused(Exception):
    """The setup would drop collections that hold data, and --allow-drop was not given."""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the scenario (see this file's docstring).")
    named = DATABASE.replace("%", "%%")  # argparse formats help texts with %
    parser.add_argument("uri", nargs="?", help="server URI (default: start the mongotx sandbox)")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help=f"with a URI: run in {named}, not {PREFIX}{named}; refuse to drop data there",
    )
    parser.add_argument(
        "--allow-drop",
        action="store_true",
        help=f"with a URI: run in {named} and drop its collections even if they hold data",
    )
    return parser.parse_args()


def masked(uri: str) -> str:
    """The URI with its password hidden."""
    uri = re.sub(r"^([a-z+]+://[^:@/]*):[^@/]*@", r"\\1:****@", uri, flags=re.I)
    return re.sub(r"([?&]password=)[^&]*", r"\\1****", uri, flags=re.I)


def describe_error(exc: PyMongoError) -> str:
    """Code, name and labels of an error, and what the labels tell the application to do."""
    details = getattr(exc, "details", None) or {}
    code = getattr(exc, "code", None)
    if code is None:  # NotPrimaryError (91 ShutdownInProgress...) carries it in its reply
        code = details.get("code")
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
    if getattr(result, "acknowledged", True) is False:
        return "unacknowledged (w: 0)"
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

$def occupied(client: $client, database: str) -> list[str]:
    """The setup's collections in `database` that hold something their drop would destroy."""
    found = []
    db = client[database]
    for name in SETUP:
        infos = $listed(db.list_collections(filter={"name": name}))
        if not infos:
            continue
        kind = infos[0].get("type") or "collection"
        if kind == "view":
            found.append(f"{database}.{name}: a view")
            continue
        options = sorted(infos[0].get("options") or {})
        has_docs = ${aw}db[name].find_one({}, projection={"_id": 1}) is not None
        indexes = [ix["name"] for ix in $listed(db[name].list_indexes()) if ix["name"] != "_id_"]
        if not has_docs and not indexes and not options and kind == "collection":
            continue  # empty: dropping and creating it again loses nothing
        count = max(${aw}db[name].estimated_document_count(), 1) if has_docs else 0
        text = f"{database}.{name}: {count} document{'' if count == 1 else 's'}"
        if indexes:
            text += f", indexes besides _id: {', '.join(indexes)}"
        if options:
            text += f", options: {', '.join(options)}"
        found.append(text)
    return found


$def prepare(client: $client, database: str, guard: bool, allow_drop: bool) -> dict[str, Any]:
    """Refill the collections; set the server parameters on the sandbox only. With `guard`
    (a URI, outside the PREFIX databases) collections that hold data are dropped only with
    `allow_drop`: otherwise Refused is raised before anything changes."""
    if guard and not allow_drop:
        found = ${aw}occupied(client, database)
        if found:
            raise Refused("\\n  ".join(["the setup would drop collections that hold data:", *found]))
    restore: dict[str, Any] = {}
    build = ${aw}client.admin.command("buildInfo")
    if PARAMETERS and build.get("sandbox") is True:
        query = {"getParameter": 1, **dict.fromkeys(PARAMETERS, 1)}
        old = ${aw}client.admin.command(query)
        restore = {key: old[key] for key in PARAMETERS}
        ${aw}client.admin.command({"setParameter": 1, **PARAMETERS})
    db = client.get_database(database, write_concern=WriteConcern("majority"))
    for name, spec in SETUP.items():
        ${aw}db.drop_collection(name)
        ${aw}db.create_collection(name)
        for index in spec["indexes"]:
            keys = list(index["keys"].items())
            ${aw}db[name].create_index(keys, unique=index["unique"])
        if spec["documents"]:
            ${aw}db[name].insert_many(spec["documents"])
    return restore


$def finish(client: $client, database: str, restore: dict[str, Any]) -> None:
    """Undo the fail point and parameters; print the collections' final contents."""
$failpoint_off    if restore:
        ${aw}client.admin.command({"setParameter": 1, **restore})
    for name in SETUP:
        docs = $final_docs
        report(f"final {name}: {docs}")


def database_for(args: argparse.Namespace) -> str:
    """The database the scenario names, on a sandbox this script starts or in place; with
    a URI otherwise, one of its own."""
    if args.uri is None or args.in_place or args.allow_drop or DATABASE.startswith(PREFIX):
        return DATABASE
    if len((PREFIX + DATABASE).encode()) > 63:
        sys.exit(f"{PREFIX}{DATABASE} is too long for a database name: use --in-place")
    return PREFIX + DATABASE


def refused(uri: str, exc: Refused) -> None:
    sys.stderr.write(
        f"not run on {masked(uri)}: {exc}\\nNothing was changed. Run without --in-place to "
        f"use a database of its own ({PREFIX}{DATABASE}), or add --allow-drop to drop them.\\n"
    )
    sys.exit(3)
'''

MAIN_SYNC = """

def run(uri: str, database: str, guard: bool, allow_drop: bool) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        restore = prepare(client, database, guard, allow_drop)
        try:
            play(client, database, uri)
        finally:
            finish(client, database, restore)
    finally:
        client.close()


def main() -> None:
    args = arguments()
    database = database_for(args)
    if args.uri is not None:
        report(f"deployment: {masked(args.uri)} · database {database}")
        try:
            run(args.uri, database, not database.startswith(PREFIX), args.allow_drop)
        except Refused as exc:
            refused(args.uri, exc)
        return
    try:
        from mongotx_sandbox import ThreadedSandbox
    except ImportError:
        sys.exit(f"usage: python {sys.argv[0]} URI  (mongotx_sandbox is not installed)")
    report(f"deployment: a sandbox started by this script · database {database}")
    with ThreadedSandbox() as uri:
        run(uri, database, False, True)


if __name__ == "__main__":
    main()
"""

MAIN_ASYNC = """

async def run(uri: str, database: str, guard: bool, allow_drop: bool) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        restore = await prepare(client, database, guard, allow_drop)
        try:
            await play(client, database, uri)
        finally:
            await finish(client, database, restore)
    finally:
        await client.close()


async def main() -> None:
    args = arguments()
    database = database_for(args)
    if args.uri is not None:
        report(f"deployment: {masked(args.uri)} · database {database}")
        try:
            await run(args.uri, database, not database.startswith(PREFIX), args.allow_drop)
        except Refused as exc:
            refused(args.uri, exc)
        return
    try:
        from mongotx_sandbox import SandboxServer
    except ImportError:
        sys.exit(f"usage: python {sys.argv[0]} URI  (mongotx_sandbox is not installed)")
    report(f"deployment: a sandbox started by this script · database {database}")
    async with SandboxServer() as uri:
        await run(uri, database, False, True)


if __name__ == "__main__":
    asyncio.run(main())
"""

# A `recoverCommit` step (backend/recovery.py does the same for `mongotx-tui run`).
RECOVER = '''

def recover_commit(client: Any, session: Any) -> str:
    """commitTransaction for `session`'s transaction as a client that lost its router
    sends it: through a new connection to a router (another one than the transaction's
    when the client knows several), with the session's lsid, txnNumber and the
    recoveryToken the router returned. pymongo keeps the token, the transaction's router
    and its number on the session, with no public accessor."""
    txn = session._transaction
    if not txn.recovery_token:
        raise InvalidOperation("no recovery token: only a router returns one")
    nodes = sorted(client.nodes)
    host, port = ([n for n in nodes if n != txn.pinned_address] or nodes)[0]
    body = {
        "commitTransaction": 1,
        "lsid": session.session_id,
        "txnNumber": Int64(session._transaction_id),
        "autocommit": False,
        "recoveryToken": txn.recovery_token,
        "$db": "admin",
    }
    payload = bytes(5) + encode(body)  # OP_MSG: flags, then one body section
    with socket.create_connection((host, port), timeout=60) as conn:
        conn.sendall(struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload)
        reply = b""
        while len(reply) < 4 or len(reply) < struct.unpack("<i", reply[:4])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("the router closed the connection")
            reply += chunk
    answer = decode(reply[21:])
    if not answer.get("ok"):
        raise OperationFailure(answer.get("errmsg", ""), answer.get("code"), answer)
    return f"committed through a new connection to {host}:{port}"
'''

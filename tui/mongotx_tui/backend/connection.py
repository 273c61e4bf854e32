"""Connecting: URI checks, password masking, client creation, what the deployment is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote_plus

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

_USERINFO = re.compile(r"^(mongodb(?:\+srv)?://)([^@/?#]*)@", re.IGNORECASE)
_PASSWORD_OPTION = re.compile(r"([?&](?:password|tlsCertificateKeyFilePassword)=)[^&#]*", re.I)


class BadURI(ValueError):
    """The URI cannot be used; the message is safe to show (no password)."""


def mask_uri(uri: str) -> str:
    """`mongodb://user:secret@host` → `mongodb://user:****@host`."""

    def repl(m: re.Match[str]) -> str:
        user, sep, _pw = m.group(2).partition(":")
        return f"{m.group(1)}{user}{':****' if sep else ''}@"

    uri = _USERINFO.sub(repl, uri)
    return _PASSWORD_OPTION.sub(r"\1****", uri)


def secrets_of(uri: str) -> list[str]:
    """The password as typed and decoded, to scrub it from any text we show."""
    m = _USERINFO.match(uri)
    out: list[str] = []
    if m and ":" in m.group(2):
        raw = m.group(2).split(":", 1)[1]
        out += [raw, unquote_plus(raw), quote_plus(unquote_plus(raw))]
    for m2 in re.finditer(r"[?&](?:password|tlsCertificateKeyFilePassword)=([^&#]*)", uri, re.I):
        out += [m2.group(1), unquote_plus(m2.group(1))]
    return sorted({s for s in out if len(s) >= 1}, key=len, reverse=True)


def scrub(text: str, uri: str) -> str:
    text = text.replace(uri, mask_uri(uri))
    for secret in secrets_of(uri):
        text = text.replace(secret, "****")
    return text


def client_options(uri: str) -> dict[str, Any]:
    """Validate the URI and choose extra client options (directConnection per §1.7)."""
    from pymongo import uri_parser
    from pymongo.errors import ConfigurationError, InvalidURI

    if not uri.lower().startswith(("mongodb://", "mongodb+srv://")):
        raise BadURI("A MongoDB URI starts with mongodb:// or mongodb+srv://")
    try:
        parsed = uri_parser.parse_uri(uri, validate=True, warn=False, connect_timeout=5)
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise BadURI(scrub(str(exc), uri)) from None
    opts = {k.lower(): v for k, v in parsed["options"].items()}
    extra: dict[str, Any] = {}
    srv = uri.lower().startswith("mongodb+srv://")
    if (
        not srv
        and len(parsed["nodelist"]) == 1
        and "directconnection" not in opts
        and "replicaset" not in opts
    ):
        # One seed and nothing said: talk to that node only, whatever it advertises.
        extra["directConnection"] = True
    if "serverselectiontimeoutms" not in opts:
        extra["serverSelectionTimeoutMS"] = 5000
    if "connecttimeoutms" not in opts:
        extra["connectTimeoutMS"] = 5000
    return extra


def make_client(
    uri: str, listeners: list[Any] | None = None, **options: Any
) -> AsyncMongoClient[dict[str, Any]]:
    """Create the app's client; call this on the running loop (it is bound to it).
    `listeners`: pymongo event listeners (the command monitor); `options`: client options
    a lane needs besides the URI's (retryWrites=False: backend.lane_options)."""
    from pymongo import AsyncMongoClient

    extra = client_options(uri)
    extra.update(options)
    if listeners:
        extra["event_listeners"] = listeners
    return AsyncMongoClient(uri, appname="mongotx-tui", tz_aware=True, **extra)


AUTHENTICATION_FAILED = 18


def login_refused(uri: str) -> str:
    """One sentence for 18 AuthenticationFailed: who tried to log in, where, never the
    password. mongod tells nothing more (its errmsg is "Authentication failed."): the name,
    the password or the authentication database (authSource) is wrong."""
    from pymongo import uri_parser

    user, source = "", "admin"
    try:
        parsed = uri_parser.parse_uri(uri, validate=False, warn=False)
        user = parsed.get("username") or ""
        options = {k.lower(): v for k, v in parsed["options"].items()}
        source = options.get("authsource") or parsed.get("database") or "admin"
    except Exception:
        pass
    who = f"user {user!r} (authSource {source})" if user else "the login"
    return (
        f"The server refused {who} with 18 AuthenticationFailed: the user name, the "
        "password or the authentication database is wrong."
    )


MEMBERS_ELECTION_MS = 1000  # electionTimeoutMillis of the embedded sandbox of several members
SANDBOX_NAME = "sandbox (in this process)"  # the embedded sandbox, wherever it is named


@dataclass
class Deployment:
    """What the server said it is, for the header."""

    uri_masked: str
    sandbox: bool  # the embedded sandbox this process started (its data is ours to drop)
    topology: str  # "replica set", "sharded cluster", "standalone"
    version: str
    set_name: str | None
    # transactionLifetimeLimitSeconds as the server reports it; None: it could not be read
    lifetime_limit_s: float | None = None
    # a sharded cluster's shards as its router's listShards names them (() when refused)
    shards: tuple[str, ...] = ()
    members: int = 1  # the set's data-bearing members, as hello's `hosts` lists them

    @property
    def transactions_supported(self) -> bool:
        return self.topology in ("replica set", "sharded cluster")

    def describe(self) -> str:
        """`sandbox (in this process) · replica set rs0 · MongoDB 8.0.4 · mongodb://…` for
        the embedded sandbox; the masked URI first for any other deployment."""
        topo = self.topology + (f" {self.set_name}" if self.set_name else "")
        if self.shards:
            topo += f" (router · {len(self.shards)} shards: {', '.join(self.shards)})"
        if self.members > 1:
            topo += f" ({self.members} members)"
        if self.sandbox:
            return f"{SANDBOX_NAME} · {topo} · MongoDB {self.version} · {self.uri_masked}"
        return f"{self.uri_masked} · {topo} · MongoDB {self.version}"


async def probe(client: AsyncMongoClient[dict[str, Any]], uri: str, sandbox: bool) -> Deployment:
    """Ask the server what it is. Raises pymongo errors when it cannot be reached."""
    admin = client.admin
    hello = await admin.command("hello")
    if hello.get("msg") == "isdbgrid":
        topology = "sharded cluster"
    elif hello.get("setName"):
        topology = "replica set"
    else:
        topology = "standalone"
    try:
        build = await admin.command("buildInfo")
        version = str(build.get("version", "?"))
    except Exception:
        version = "?"
    lifetime = await read_lifetime_limit(client)
    shards: tuple[str, ...] = ()
    if topology == "sharded cluster":
        shards = await read_shards(client)
    return Deployment(
        uri_masked=mask_uri(uri),
        sandbox=sandbox,
        topology=topology,
        version=version,
        set_name=hello.get("setName"),
        lifetime_limit_s=lifetime,
        shards=shards,
        members=len(hello.get("hosts") or []) or 1,
    )


async def read_shards(client: AsyncMongoClient[dict[str, Any]]) -> tuple[str, ...]:
    """The shards' ids from the router's listShards [manual: reference/command/listShards;
    it needs the listShards privilege: () when refused]."""
    try:
        reply = await client.admin.command("listShards")
    except Exception:
        return ()
    docs = reply.get("shards") or []
    return tuple(d["_id"] for d in docs if isinstance(d, dict) and isinstance(d.get("_id"), str))


async def read_lifetime_limit(client: AsyncMongoClient[dict[str, Any]]) -> float | None:
    """The deployment's transactionLifetimeLimitSeconds, or None where getParameter is not
    permitted (Atlas tiers, users without the privilege) or the reply has no number."""
    try:
        reply = await client.admin.command(
            {"getParameter": 1, "transactionLifetimeLimitSeconds": 1}
        )
    except Exception:
        return None
    value = reply.get("transactionLifetimeLimitSeconds")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class EmbeddedSandbox:
    """The in-process sandbox on the caller's loop, seeded with bank.accounts."""

    def __init__(self, port: int = 0, members: int = 1) -> None:
        self.port = port
        self.members = members
        self.server: Any = None
        self.uri = ""

    async def start(self) -> str:
        from mongotx_sandbox import SandboxServer

        # Several members (--members 3): a short election timeout, so that a killed
        # primary's successor is elected while a person watches (MongoDB's default is 10 s).
        timeout = {"election_timeout_ms": MEMBERS_ELECTION_MS} if self.members > 1 else {}
        self.server = SandboxServer(
            host="127.0.0.1", port=self.port, replset="rs0", members=self.members, **timeout
        )
        self.uri = await self.server.start()
        return self.uri

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None


def start_sharded_sandbox(shards: int = 2, port: int = 0) -> tuple[Any, str]:
    """`mongotx-tui --sharded`: a sharded sandbox on its own thread (router and shards),
    with bank.accounts sharded on _id so that alice is on shard0 and bob on shard1: a
    transfer between them is a cross-shard transaction. Returns the cluster and the
    router's URI."""
    from pymongo import MongoClient

    from mongotx_sandbox import ThreadedShardedSandbox

    cluster = ThreadedShardedSandbox(port=port, shards=shards)
    uri = cluster.start()
    with MongoClient(uri) as client:
        client.admin.command("enableSharding", "bank", primaryShard="shard0")
        client.admin.command("shardCollection", "bank.accounts", key={"_id": 1})
        client.admin.command("split", "bank.accounts", middle={"_id": "b"})
        client.admin.command("moveChunk", "bank.accounts", find={"_id": "b"}, to="shard1")
        client.bank.accounts.insert_many([dict(d) for d in SEED])
    return cluster, uri


SEED = [
    {"_id": "alice", "name": "Alice", "balance": 100},
    {"_id": "bob", "name": "Bob", "balance": 50},
]


async def seed_if_empty(client: AsyncMongoClient[dict[str, Any]], db: str, coll: str) -> bool:
    collection = client[db][coll]
    if await collection.find_one({}, projection={"_id": 1}) is not None:
        return False
    await collection.insert_many([dict(d) for d in SEED])
    return True

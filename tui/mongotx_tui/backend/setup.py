"""Prepare the database for a scenario, and put the server back afterwards.

Data safety. A scenario's setup drops and refills its collections. That is done freely only
on a sandbox this process started itself (`own`: the TUI's embedded sandbox, `run` without
a URI). On any deployment reached by a URI — a real cluster, or a mongotx sandbox started
separately, which may hold someone's work — a scenario runs in a database of its own,
`mongotx_<database>` (`run_database`), which the product owns and may drop at will. Run
in the database the scenario names (`in_place`), a collection there that holds anything
(documents, an index besides _id, options, or a view of that name) is dropped only with the
user's consent for that namespace (`allow_drop`); otherwise `prepare` raises DropRefused
before changing anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model.ops import StepAction
from ..scenario.placement import protected

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

    from ..scenario.definition import Scenario


@dataclass(frozen=True)
class Occupied:
    """A setup collection that exists and holds something its drop would destroy."""

    namespace: str
    documents: int = 0
    indexes: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # capped, validator, ...
    kind: str = "collection"  # or "view", "timeseries"

    def describe(self) -> str:
        """`bank.accounts: 3 documents, 1 index besides _id (balance_1)`."""
        if self.kind == "view":
            return f"{self.namespace}: a view"
        n = self.documents
        parts = [f"{n:,} document{'' if n == 1 else 's'}"]
        if self.kind != "collection":
            parts.insert(0, f"a {self.kind} collection")
        if self.indexes:
            k = len(self.indexes)
            names = ", ".join(self.indexes)
            parts.append(f"{k} {'index' if k == 1 else 'indexes'} besides _id ({names})")
        if self.options:
            parts.append(f"options {', '.join(self.options)}")
        return f"{self.namespace}: {', '.join(parts)}"


# How long the setup's majority writes wait for the members (a paused or lagging
# secondary): then the load stops with a sentence instead of waiting without a word.
SETUP_WTIMEOUT_MS = 15_000


class SetupNotReplicated(Exception):
    """A majority of the members did not acknowledge the setup in time (wtimeout)."""

    def __init__(self, step: str, wtimeout_ms: int) -> None:
        super().__init__(
            f"the setup's {step} was not acknowledged by a majority of the members within "
            f"{wtimeout_ms / 1000:g} s (writeConcern majority, wtimeout): are secondaries "
            "paused or lagging? Resume them (members panel, M) and load again"
        )


class DropRefused(Exception):
    """The setup would drop collections holding data without the user's consent."""

    def __init__(self, occupied: list[Occupied]) -> None:
        self.occupied = occupied
        listed = "; ".join(o.describe() for o in occupied)
        super().__init__(f"not dropped without consent: {listed}")


async def occupied(
    client: AsyncMongoClient[dict[str, Any]], database: str, names: Iterable[str]
) -> list[Occupied]:
    """Those of the collections `names` in `database` that exist and hold something."""
    db = client[database]
    out: list[Occupied] = []
    for name in names:
        infos = await (await db.list_collections(filter={"name": name})).to_list()
        if not infos:
            continue
        info = infos[0]
        ns = f"{database}.{name}"
        kind = str(info.get("type") or "collection")
        if kind == "view":
            out.append(Occupied(ns, kind=kind))
            continue
        coll = db[name]
        options = tuple(sorted(info.get("options") or {}))
        has_docs = await coll.find_one({}, projection={"_id": 1}) is not None
        indexes = await (await coll.list_indexes()).to_list()
        extra = tuple(str(ix.get("name")) for ix in indexes if ix.get("name") != "_id_")
        if not has_docs and not extra and not options and kind == "collection":
            continue  # an empty collection: dropping and creating it again loses nothing
        count = await coll.estimated_document_count() if has_docs else 0
        out.append(Occupied(ns, max(count, int(has_docs)), extra, options, kind))
    return out


@dataclass
class Prepared:
    sandbox: bool
    restore: dict[str, Any] = field(default_factory=dict)  # parameter -> previous value
    notes: list[str] = field(default_factory=list)


async def is_sandbox(client: AsyncMongoClient[dict[str, Any]]) -> bool:
    """The embedded sandbox says so in buildInfo; a real server does not."""
    build = await client.admin.command("buildInfo")
    return build.get("sandbox") is True


async def check_consent(
    client: AsyncMongoClient[dict[str, Any]],
    scenario: Scenario,
    *,
    own: bool,
    allow_drop: bool | Collection[str] = False,
) -> None:
    """Raise DropRefused if the setup would drop, without consent, a collection holding
    data on a deployment that is not our own sandbox (outside the PREFIX databases)."""
    database = scenario.setup.database
    if not protected(database, own):
        return
    names = [c.name for c in scenario.setup.collections]
    found = await occupied(client, database, names)
    refused = [
        o for o in found if not (allow_drop is True or (allow_drop and o.namespace in allow_drop))
    ]
    if refused:
        raise DropRefused(refused)


async def prepare(
    client: AsyncMongoClient[dict[str, Any]],
    scenario: Scenario,
    *,
    own: bool,
    allow_drop: bool | Collection[str] = False,
    wtimeout_ms: int = SETUP_WTIMEOUT_MS,
) -> Prepared:
    """Server parameters (sandbox only), then each collection dropped, indexed and filled.

    `own`: the server is a sandbox this process started. Otherwise, in a database without
    the PREFIX, a collection holding anything is dropped only if `allow_drop` is True or
    names its namespace; else DropRefused is raised before anything changes.
    """
    from pymongo import WriteConcern

    await check_consent(client, scenario, own=own, allow_drop=allow_drop)
    prepared = Prepared(await is_sandbox(client))
    params = scenario.setup.parameters
    if params and prepared.sandbox:
        old = await client.admin.command({"getParameter": 1, **dict.fromkeys(params, 1)})
        prepared.restore = {k: old[k] for k in params if k in old}
        await client.admin.command({"setParameter": 1, **params})
    elif params:
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        prepared.notes.append(f"server parameters not applied (not the sandbox): {shown}")
    majority = WriteConcern("majority", wtimeout=wtimeout_ms)
    db = client.get_database(scenario.setup.database, write_concern=majority)
    for coll in scenario.setup.collections:
        async with _acknowledged(f"set-up of {coll.name}", wtimeout_ms):
            await db.drop_collection(coll.name)
            await db.create_collection(coll.name)
            for index in coll.indexes:
                kwargs: dict[str, Any] = {"unique": index.unique}
                if index.name:
                    kwargs["name"] = index.name
                await db[coll.name].create_index(list(index.keys.items()), **kwargs)
            if coll.documents:
                await db[coll.name].insert_many([dict(d) for d in coll.documents])
    return prepared


@contextlib.asynccontextmanager
async def _acknowledged(step: str, wtimeout_ms: int) -> AsyncIterator[None]:
    """Raise SetupNotReplicated for a write concern timeout (the reply's writeConcernError
    has `errInfo.wtimeout`; code 64 WriteConcernFailed) [manual: reference/write-concern
    ("wtimeout")]; a bulk insert reports it in `writeConcernErrors`."""
    from pymongo.errors import BulkWriteError, WriteConcernError

    try:
        yield
    except WriteConcernError as exc:
        if (exc.details or {}).get("errInfo", {}).get("wtimeout") or exc.code == 64:
            raise SetupNotReplicated(step, wtimeout_ms) from None
        raise
    except BulkWriteError as exc:
        if (exc.details or {}).get("writeConcernErrors") and not exc.details.get("writeErrors"):
            raise SetupNotReplicated(step, wtimeout_ms) from None
        raise


async def restore(
    client: AsyncMongoClient[dict[str, Any]], scenario: Scenario, prepared: Prepared
) -> None:
    """Turn off the fail point the scenario set and restore the parameters it changed."""
    if any(s.action == StepAction.FAIL_POINT for s in scenario.steps):
        await client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    if prepared.restore:
        await client.admin.command({"setParameter": 1, **prepared.restore})


async def final_state(
    client: AsyncMongoClient[dict[str, Any]], scenario: Scenario
) -> dict[str, list[dict[str, Any]]]:
    """Every setup collection's committed documents, by _id."""
    db = client[scenario.setup.database]
    out = {}
    for coll in scenario.setup.collections:
        out[coll.name] = await db[coll.name].find({}, sort=[("_id", 1)]).to_list()
    return out

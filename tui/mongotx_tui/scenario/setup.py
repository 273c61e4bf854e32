"""Prepare the database for a scenario, and put the server back afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

    from .model import Scenario


@dataclass
class Prepared:
    sandbox: bool
    restore: dict[str, Any] = field(default_factory=dict)  # parameter -> previous value
    notes: list[str] = field(default_factory=list)


async def is_sandbox(client: AsyncMongoClient[dict[str, Any]]) -> bool:
    """The embedded sandbox says so in buildInfo; a real server does not."""
    build = await client.admin.command("buildInfo")
    return build.get("sandbox") is True


async def prepare(client: AsyncMongoClient[dict[str, Any]], scenario: Scenario) -> Prepared:
    """Server parameters (sandbox only), then each collection dropped, indexed and filled."""
    from pymongo import WriteConcern

    prepared = Prepared(await is_sandbox(client))
    params = scenario.setup.parameters
    if params and prepared.sandbox:
        old = await client.admin.command({"getParameter": 1, **dict.fromkeys(params, 1)})
        prepared.restore = {k: old[k] for k in params if k in old}
        await client.admin.command({"setParameter": 1, **params})
    elif params:
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        prepared.notes.append(f"server parameters not applied (not the sandbox): {shown}")
    db = client.get_database(scenario.setup.database, write_concern=WriteConcern("majority"))
    for coll in scenario.setup.collections:
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


async def restore(
    client: AsyncMongoClient[dict[str, Any]], scenario: Scenario, prepared: Prepared
) -> None:
    """Turn off the fail point the scenario set and restore the parameters it changed."""
    if any(s.action == "failPoint" for s in scenario.steps):
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

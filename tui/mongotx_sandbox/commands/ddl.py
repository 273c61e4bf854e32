"""Collections, databases and indexes: create, drop, list, createIndexes, dropIndexes."""

from __future__ import annotations

from typing import Any

from .. import locks
from ..access import DuplicateKey, OpContext, check_namespace, refuse_system_create
from ..cursors import cursor_reply, open_cursor
from ..errors import CommandError
from ..store import Collection, Index
from . import index_specs
from .common import coll_name, cursor_batch_size
from .read_concern import refuse_snapshot_read_concern
from .registry import command


async def _wait_for_transactions(ctx: OpContext, db: str, name: str | None) -> None:
    """Take the exclusive lock (see locks.py). The DDL that follows makes its change without
    awaiting anything, so releasing the pending lock here lets nothing in between."""
    async with locks.exclusive(ctx, db, name):
        pass


_CREATE_OPTIONS = (
    "capped",
    "size",
    "max",
    "validator",
    "validationLevel",
    "validationAction",
    "collation",
    "timeseries",
    "clusteredIndex",
    "changeStreamPreAndPostImages",
    "viewOn",
    "pipeline",
)
_COLLMOD_OPTIONS = (
    "validator",
    "validationLevel",
    "validationAction",
    "changeStreamPreAndPostImages",
    "pipeline",
    "viewOn",
    "expireAfterSeconds",
)


@command("create", in_transaction=True, write=True)
async def create(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "create")
    check_namespace(ctx.db, name)
    # (A transaction whose read concern is not local was refused before: dispatch.py.)
    if ctx.collection(ctx.db, name) is not None:
        raise CommandError(48, f"Collection {ctx.db}.{name} already exists.")
    options = {k: v for k, v in body.items() if k in _CREATE_OPTIONS}
    if "collation" in options:
        # The collection's default collation for operations that give none (validated now).
        ctx.use_collation(None, options["collation"])
    if "viewOn" in options:
        if ctx.txn is not None:
            raise CommandError(263, "Cannot create a view in a multi-document transaction.")
        if not isinstance(options["viewOn"], str) or not isinstance(
            options.get("pipeline", []), list
        ):
            raise CommandError(14, "'viewOn' must be a string and 'pipeline' an array")
        options.setdefault("pipeline", [])
        from .view_specs import check_view_pipeline

        check_view_pipeline(ctx.db, name, options["pipeline"])
    if ctx.txn is not None:
        if "timeseries" in options:
            # [srv:db/catalog/create_collection.cpp createCollection] (issue 17, D10)
            raise CommandError(
                263, "Cannot create a time-series collection in a multi-document transaction."
            )
        refuse_system_create(ctx.db, name)  # issue 17, D9
        coll = Collection(ctx.db, name, options)
        ctx.txn.created[(ctx.db, name)] = coll
    else:
        if ctx.state.fail_points:
            await _hang_and_fail(ctx, name)
        seq = ctx.state.clock.tick()
        ctx.state.catalog.create(ctx.db, name, options, seq, ctx.state.oldest_snapshot())
        ctx.state.log_write(seq, "create", ctx.db, name, extra={"operationDescription": options})
    return {"ok": 1.0}


@command("sandboxShardCollectionEvent")
async def shard_collection_event(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The sharded sandbox's router tells the collection's primary shard that it sharded
    it: the shard writes the no-op oplog entry a change stream with showExpandedEvents
    reports as a `shardCollection` event, its operationDescription the shard key and its
    options [srv:db/s/sharding_ddl_util.cpp notifyChangeStreamsOnShardCollection;
    db/pipeline/change_stream_event_transform.cpp; spec: change-streams
    showExpandedEvents "shardCollection events are reported"]. Internal: sent by the
    router only (MongoDB's shard does this inside `_shardsvrCreateCollection`)."""
    name = coll_name(body, "sandboxShardCollectionEvent")
    key = body.get("shardKey")
    if not isinstance(key, dict):
        raise CommandError(2, "sandboxShardCollectionEvent needs the shardKey")
    described = {"shardKey": key, "unique": bool(body.get("unique", False))}
    seq = ctx.state.clock.tick()
    coll = ctx.collection(ctx.db, name)
    uuid = coll.uuid if coll is not None else None
    ctx.state.log_write(
        seq, "shardCollection", ctx.db, name, extra={"operationDescription": described}, uuid=uuid
    )
    return {"ok": 1.0}


async def _hang_and_fail(ctx: OpContext, name: str) -> None:
    """The test fail point hangAndFailAfterCreateCollectionReservesOpTime: the create of
    `data.nss` (any, without it) hangs while it is on, then fails with 51267
    [srv:db/catalog/create_collection.cpp]."""
    from .. import failpoints  # loaded only once a fail point is set

    fp_name = "hangAndFailAfterCreateCollectionReservesOpTime"
    fp = ctx.state.fail_points.get(fp_name)
    if fp is None or fp.data.get("nss", f"{ctx.db}.{name}") != f"{ctx.db}.{name}":
        return
    failpoints.enter(ctx.state, fp_name)
    while fp_name in ctx.state.fail_points:
        await failpoints.changed(ctx.state)
    raise CommandError(51267, f"{fp_name} fail point enabled")


@command("drop", write=True)
async def drop(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "drop")
    await _wait_for_transactions(ctx, ctx.db, name)
    coll = ctx.state.catalog.get(ctx.db, name)
    if coll is None:
        # 7.0+ answers ok for a missing collection (drop is idempotent since 7.0).
        return {"ok": 1.0}
    seq = ctx.state.clock.tick()
    ctx.state.catalog.drop(ctx.db, name, seq, ctx.state.oldest_snapshot())
    ctx.state.log_write(seq, "drop", ctx.db, name, uuid=coll.uuid)
    return {"nIndexesWas": len(coll.indexes), "ns": coll.ns, "ok": 1.0}


@command("dropDatabase", write=True)
async def drop_database(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    await _wait_for_transactions(ctx, ctx.db, None)
    dropped: list[Collection] = []
    if ctx.state.catalog.collections(ctx.db):
        seq = ctx.state.clock.tick()
        dropped = ctx.state.catalog.drop_db(ctx.db, seq, ctx.state.oldest_snapshot())
    if dropped:
        for coll in dropped:
            ctx.state.log_write(seq, "drop", ctx.db, coll.name, uuid=coll.uuid)
        ctx.state.log_write(seq, "dropDatabase", ctx.db, "")
    return {"dropped": ctx.db, "ok": 1.0}


def _collection_info(coll: Collection) -> dict[str, Any]:
    if coll.is_view:
        return {
            "name": coll.name,
            "type": "view",
            "options": dict(coll.options),
            "info": {"readOnly": True},
        }
    return {
        "name": coll.name,
        "type": "collection",
        "options": dict(coll.options),
        "info": {"readOnly": False, "uuid": coll.uuid},
        "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
    }


@command("listCollections", reads=True)
async def list_collections(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    from .. import engine

    refuse_snapshot_read_concern(body, "listCollections")
    flt = body.get("filter") or {}
    name_only = bool(body.get("nameOnly"))
    infos = []
    for coll in ctx.state.catalog.collections(ctx.db):
        info = _collection_info(coll)
        try:
            if flt and not engine.matches(flt, info):
                continue
        except engine.EngineError as exc:
            raise CommandError(exc.code, exc.message) from exc
        infos.append({"name": info["name"], "type": info["type"]} if name_only else info)
    batch_size = cursor_batch_size(body)
    ns = f"{ctx.db}.$cmd.listCollections"
    batch, cid = open_cursor(
        ctx.state, ns, infos, first_batch=batch_size, lsid_key=ctx.session_key, txn=ctx.txn
    )
    return cursor_reply(ns, batch, cid, True)


@command("listDatabases", admin_only=True, reads=True)
async def list_databases(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    from .. import engine

    refuse_snapshot_read_concern(body, "listDatabases")
    flt = body.get("filter") or {}
    out = []
    total = 0
    for db, colls in sorted(ctx.state.catalog.dbs.items()):
        if not colls:
            continue
        size = sum(c.count_committed() for c in colls.values()) * 1024
        info = {"name": db, "sizeOnDisk": size, "empty": size == 0}
        if flt and not engine.matches(flt, info):
            continue
        total += size
        out.append({"name": db} if body.get("nameOnly") else info)
    reply: dict[str, Any] = {"databases": out}
    if not body.get("nameOnly"):
        reply["totalSize"] = total
    reply["ok"] = 1.0
    return reply


@command("createIndexes", in_transaction=True, write=True)
async def create_indexes(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "createIndexes")
    specs = body.get("indexes")
    if not isinstance(specs, list) or not specs:
        raise CommandError(2, "Must specify at least one index to create")
    specs = [index_specs.prepare_spec(spec) for spec in specs]
    parsed = [index_specs.parse_spec(spec) for spec in specs]
    coll = ctx.collection(ctx.db, name)
    created_now = False
    if ctx.txn is not None:
        ctx.check_writable(ctx.db, name)  # a write acquisition, as for documents
        # Specs the collection already has are dropped before the transaction rule applies,
        # so re-creating an existing index is a no-op even here (issue 17, D11)
        # [srv:db/commands/create_indexes.cpp; manual, "Create Collections and Indexes in a
        # Transaction"].
        if (
            coll is not None
            and (ctx.txn.created.get((ctx.db, name)) is not coll or ctx.scan(coll))
            and not all(
                index_specs.already_exists(coll, spec, key, iname)
                for spec, (key, iname) in zip(specs, parsed, strict=True)
            )
        ):
            raise CommandError(
                263,
                f"Cannot create new indexes on existing collection {ctx.db}.{name} in a "
                "multi-document transaction.",
            )
    elif coll is None or not all(
        index_specs.already_exists(coll, spec, key, iname)
        for spec, (key, iname) in zip(specs, parsed, strict=True)
    ):
        # Indexes that all exist already need no exclusive lock: the command answers at once
        # even beside a transaction that wrote to the collection (issue 17, D5)
        # [srv:db/commands/create_indexes.cpp runCreateIndexesWithCoordinator: existing
        # specs are removed under an intent lock before the exclusive one is asked for].
        await _wait_for_transactions(ctx, ctx.db, name)
    if coll is None:
        coll = ctx.ensure_collection(ctx.db, name)
        created_now = True
    before = len(coll.indexes)
    for spec, (key, iname) in zip(specs, parsed, strict=True):
        if index_specs.already_exists(coll, spec, key, iname):
            continue
        unique = bool(spec.get("unique", False))
        options = {
            k: v for k, v in spec.items() if k not in ("key", "name", "unique", "sparse", "v", "ns")
        }
        index = Index(iname, key, unique=unique, sparse=bool(spec.get("sparse")), options=options)
        if unique or len(key) > 1:
            # The build reads every document's keys: a duplicate fails a unique index, and
            # parallel arrays any compound one (171, raised by Index.keys).
            seen: set[Any] = set()
            for _, doc in ctx.scan(coll):
                keys = index.keys(doc)
                if not unique:
                    continue
                for entry, values in keys.items():
                    if entry in seen:
                        raise DuplicateKey(coll, index, doc, values)
                    seen.add(entry)
        coll.indexes[iname] = index
        if ctx.txn is None:
            coll.min_valid = seq = ctx.state.clock.tick()
            ctx.state.log_write(
                seq,
                "createIndexes",
                ctx.db,
                name,
                extra={"operationDescription": {"indexes": [index.spec()]}},
            )
    reply: dict[str, Any] = {
        "numIndexesBefore": before,
        "numIndexesAfter": len(coll.indexes),
        "createdCollectionAutomatically": created_now,
    }
    if len(coll.indexes) == before:
        reply["note"] = "all indexes already exist"
    reply["ok"] = 1.0
    return reply


@command("listIndexes", reads=True)
async def list_indexes(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    refuse_snapshot_read_concern(body, "listIndexes")
    name = coll_name(body, "listIndexes")
    coll = ctx.collection(ctx.db, name)
    if coll is None:
        raise CommandError(26, f"ns does not exist: {ctx.db}.{name}")
    specs = [i.spec() for i in coll.indexes.values()]
    batch_size = cursor_batch_size(body)
    ns = f"{ctx.db}.{name}"
    batch, cid = open_cursor(
        ctx.state, ns, specs, first_batch=batch_size, lsid_key=ctx.session_key, txn=ctx.txn
    )
    return cursor_reply(ns, batch, cid, True)


@command("dropIndexes", "deleteIndexes", write=True)
async def drop_indexes(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, next(iter(body)))
    coll = ctx.collection(ctx.db, name)
    if coll is None:
        raise CommandError(26, f"ns not found {ctx.db}.{name}")
    await _wait_for_transactions(ctx, ctx.db, name)
    target = body.get("index")
    before = len(coll.indexes)
    names: list[str]
    if target == "*":
        names = [n for n in coll.indexes if n != "_id_"]
    elif isinstance(target, str):
        names = [target]
    elif isinstance(target, list) and all(isinstance(n, str) for n in target):
        names = list(target)
    elif isinstance(target, dict):
        match = [i.name for i in coll.indexes.values() if i.key == target]
        if not match:
            raise CommandError(27, f"can't find index with key: {target}")
        names = match
    else:
        raise CommandError(14, "'index' must be a string, an array of names or a key pattern")
    for iname in names:
        if iname == "_id_":
            raise CommandError(72, "cannot drop _id index")
        if iname not in coll.indexes:
            raise CommandError(27, f"index not found with name [{iname}]")
    for iname in names:
        spec = coll.indexes.pop(iname).spec()
        coll.min_valid = seq = ctx.state.clock.tick()
        ctx.state.log_write(
            seq,
            "dropIndexes",
            ctx.db,
            name,
            extra={"operationDescription": {"indexes": [spec]}},
        )
    return {"nIndexesWas": before, "ok": 1.0}


@command("collMod", write=True)
async def coll_mod(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """collMod for the options the sandbox keeps (validator settings, view pipeline,
    change stream images); other options answer InvalidOptions rather than a silent ok."""
    name = coll_name(body, "collMod")
    coll = ctx.collection(ctx.db, name)
    if coll is None:
        raise CommandError(26, f"ns does not exist: {ctx.db}.{name}")
    await _wait_for_transactions(ctx, ctx.db, name)
    for key, value in body.items():
        if key == "collMod" or key.startswith("$") or key in _GENERIC_ARGS:
            continue
        if key not in _COLLMOD_OPTIONS:
            raise CommandError(
                72, f"collMod option '{key}' is not supported by the mongotx sandbox"
            )
        coll.options[key] = value
    coll.min_valid = seq = ctx.state.clock.tick()
    ctx.state.log_write(seq, "modify", ctx.db, name)
    return {"ok": 1.0}


_GENERIC_ARGS = ("lsid", "txnNumber", "writeConcern", "comment", "maxTimeMS")


@command("renameCollection", admin_only=True, write=True)
async def rename_collection(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    source, target = body.get("renameCollection"), body.get("to")
    if not isinstance(source, str) or not isinstance(target, str):
        raise CommandError(14, "'renameCollection' and 'to' must be namespace strings")
    src_db, _, src_name = source.partition(".")
    dst_db, _, dst_name = target.partition(".")
    check_namespace(dst_db, dst_name)
    coll = ctx.state.catalog.get(src_db, src_name)
    if coll is None:
        raise CommandError(26, f"Source collection {source} does not exist")
    if coll.is_view:
        raise CommandError(166, f"Cannot rename view {source}")
    await _wait_for_transactions(ctx, src_db, src_name)
    if ctx.state.catalog.get(dst_db, dst_name) is not None:
        if not body.get("dropTarget"):
            raise CommandError(48, f"Target namespace {target} exists")
        await _wait_for_transactions(ctx, dst_db, dst_name)
    # Both names change at one commit time: a snapshot before it still resolves the source
    # name to this collection and the target name to what it held.
    seq = ctx.state.clock.tick()
    oldest = ctx.state.oldest_snapshot()
    ctx.state.catalog.drop(dst_db, dst_name, seq, oldest)
    ctx.state.catalog.drop(src_db, src_name, seq, oldest)
    coll.db, coll.name = dst_db, dst_name
    ctx.state.catalog.add(coll, seq, oldest)
    to = {"db": dst_db, "coll": dst_name}
    ctx.state.log_write(
        seq,
        "rename",
        src_db,
        src_name,
        extra={
            "to": to,
            "operationDescription": {"to": to, "dropTarget": bool(body.get("dropTarget"))},
        },
        uuid=coll.uuid,
    )
    return {"ok": 1.0}

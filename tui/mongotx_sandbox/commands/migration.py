"""A chunk migration's writes on a shard, sent by the sharded sandbox's router
(sharding/config_cmds.py `_migrate`): the recipient's clone and the donor's range deletion.
They write as insert and delete do, but their oplog entries are marked fromMigrate, so
change streams do not report a migration as application writes.

MongoDB's shards do this inside their own migration protocol (`_recvChunkStart`,
`_migrateClone`, the range deleter), never through a client's insert or delete; these two
internal commands (like sandboxShardCollectionEvent) stand for it, so no insert, update or
delete a client sends can carry the mark."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..errors import CommandError
from . import crud
from .common import coll_name, get_list
from .registry import command


@command("sandboxMigrateClone", write=True)
async def migrate_clone(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The recipient inserts the chunk's documents, each write fromMigrate
    [srv:db/s/migration_destination_manager.cpp MigrationDestinationManager::_migrateDriver:
    the cloned batch goes through write_ops_exec::performInserts with
    OperationSource::kFromMigrate]."""
    name = coll_name(body, "sandboxMigrateClone")
    ctx.from_migrate = True
    return await crud.insert(ctx, {"insert": name, "documents": body.get("documents")})


@command("sandboxRangeDeletion", write=True)
async def range_deletion(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The donor deletes the documents it gave away (by _id), each write fromMigrate
    [srv:db/s/range_deletion_util.cpp deleteNextBatch: DeleteStageParams::fromMigrate]."""
    name = coll_name(body, "sandboxRangeDeletion")
    ids = get_list(body, "ids")
    if not ids:
        raise CommandError(9, "sandboxRangeDeletion needs the _ids of the moved documents")
    ctx.from_migrate = True
    deletes = [{"q": {"_id": {"$in": ids}}, "limit": 0}]
    return await crud.delete(ctx, {"delete": name, "deletes": deletes})

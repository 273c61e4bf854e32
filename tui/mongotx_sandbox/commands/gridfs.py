"""filemd5: the MD5 of a GridFS file's chunks (issue 17, D15 neighbours)."""

from __future__ import annotations

import hashlib
from typing import Any

from ..access import OpContext
from ..errors import CommandError
from .registry import command


@command("filemd5")
async def filemd5(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The chunks of file `filemd5` in `<root>.chunks` (root "fs" by default), in `n` order:
    how many, and the MD5 of their data [srv:db/commands/filemd5_cmd.cpp; manual: filemd5].
    A file without chunks answers 0 chunks and the MD5 of nothing."""
    root = body.get("root", "fs")
    if not isinstance(root, str):
        raise CommandError(14, "'root' must be a string")
    coll = ctx.collection(ctx.db, f"{root}.chunks")
    chunks = [d for _, d in ctx.find(coll, {"files_id": body["filemd5"]})]
    chunks.sort(key=lambda d: d.get("n", 0))
    digest = hashlib.md5(usedforsecurity=False)
    for expected, chunk in enumerate(chunks):
        if chunk.get("n") != expected:
            raise CommandError(
                20, f"Unexpected chunk: expected n = {expected} but found n = {chunk.get('n')}"
            )
        data = chunk.get("data")
        if not isinstance(data, bytes):
            raise CommandError(14, "chunk 'data' must be binary")
        digest.update(data)
    return {"numChunks": len(chunks), "md5": digest.hexdigest(), "ok": 1.0}

"""The two rewrites that keep the proxy in the path: the client's handshake loses its
`compression` list (so no compressor is negotiated and every message stays a readable
OP_MSG), and a hello/isMaster reply names proxy addresses instead of the upstream members.

The server negotiates compression only from the list the client's handshake offers
(mongo/src/mongo/transport/message_compressor_manager.cpp, serverNegotiate: no
`compression` field, no compressor), so removing the field is enough; nothing is
decompressed. A reply's `hosts`, `passives`, `arbiters`, `me` and `primary` are the
addresses a replica-set-aware driver connects to next (the SDAM specification, "Parsing a
hello or legacy hello response"); each is replaced by the proxy's address for that member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import frames

HELLO_NAMES = frozenset({"hello", "ismaster"})
HOST_LISTS = ("hosts", "passives", "arbiters")
HOST_FIELDS = ("me", "primary")


def is_hello(name: str) -> bool:
    return name.lower() in HELLO_NAMES


def _strip(doc: dict[str, Any]) -> bool:
    """Remove `compression` from a handshake document (or its $query); True if it had one."""
    inner = doc.get("$query") if isinstance(doc.get("$query"), dict) else doc
    if "compression" not in inner:
        return False
    del inner["compression"]
    return True


def strip_compression(frame: bytes) -> tuple[bytes, dict[str, Any] | None]:
    """The client's handshake frame without `compression`, and its decoded command (None
    when it was not decoded). Frames that are not a hello come back as they are."""
    h = frames.header(frame)
    if h.op_code == frames.OP_MSG:
        msg = frames.decode_msg(frame)
        if _strip(msg.body):
            return frames.rewrite_msg_body(frame, msg.body), msg.body
        return frame, msg.body
    if h.op_code == frames.OP_QUERY:
        query = frames.decode_query(frame)
        if _strip(query.query):
            return frames.encode_query(h, query), query.query
        return frame, query.query
    return frame, None


def rewrite_hosts(reply: dict[str, Any], local: Callable[[str], str]) -> bool:
    """Replace every member address in a hello reply by `local(address)`; True if any."""
    changed = False
    for key in HOST_LISTS:
        value = reply.get(key)
        if isinstance(value, list):
            new = [local(h) if isinstance(h, str) else h for h in value]
            changed |= new != value
            reply[key] = new
    for key in HOST_FIELDS:
        value = reply.get(key)
        if isinstance(value, str):
            new = local(value)
            changed |= new != value
            reply[key] = new
    return changed


def member_addresses(reply: dict[str, Any]) -> list[str]:
    """Every member address a hello reply names, in its order, once each."""
    seen: list[str] = []
    for key in HOST_LISTS:
        for h in reply.get(key) or ():
            if isinstance(h, str) and h not in seen:
                seen.append(h)
    for key in HOST_FIELDS:
        h = reply.get(key)
        if isinstance(h, str) and h not in seen:
            seen.append(h)
    return seen


def rewrite_reply(
    frame: bytes, local: Callable[[str], str], learn: Callable[[dict[str, Any]], None]
) -> tuple[bytes, dict[str, Any]]:
    """A hello reply frame (OP_MSG or OP_REPLY) with its addresses mapped by `local` (after
    `learn` has seen the reply as it came), and its decoded body as the upstream sent it."""
    h = frames.header(frame)
    if h.op_code == frames.OP_MSG:
        msg = frames.decode_msg(frame)
        original = dict(msg.body)
        learn(original)
        if rewrite_hosts(msg.body, local):
            return frames.rewrite_msg_body(frame, msg.body), original
        return frame, original
    if h.op_code == frames.OP_REPLY:
        reply = frames.decode_reply(frame)
        if not reply.documents:
            return frame, {}
        original = dict(reply.documents[0])
        learn(original)
        if rewrite_hosts(reply.documents[0], local):
            return frames.encode_reply(h, reply), original
        return frame, original
    return frame, {}

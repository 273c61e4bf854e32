"""What the forwarding process (child.py) sends its parent (relay.py) on its stdout: one
length-prefixed pickle per message. The first message is READY (address, members) or
ERROR (kind, errno, text); then batches, each a list of items (kind, conn_id, a, b, at)
with the kinds of feed.py plus MEMBER, MEMBERS and END (the child has shipped its last)."""

from __future__ import annotations

import os
import pickle
from typing import IO, Any

from .feed import CLOSED, FLUSH, NOTICE, REPLY, REQUEST

MEMBER, MEMBERS, END = 5, 6, 7
READY, ERROR = "ready", "error"
LENGTH = 4  # bytes of the little-endian length before each pickle

__all__ = ["CLOSED", "END", "FLUSH", "MEMBER", "MEMBERS", "NOTICE", "REPLY", "REQUEST"]


def write(fd: int, message: Any) -> None:
    """One message on `fd` (OSError if the parent is gone)."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(LENGTH, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def read(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream (the child is gone)."""
    head = stream.read(LENGTH)
    if len(head) < LENGTH:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)

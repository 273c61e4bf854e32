"""One page of the watched collection, as committed, and the page size everyone uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 100


@dataclass
class Page:
    """One page of the watched collection, as committed."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    number: int = 0  # 0-based
    total: int | None = None  # estimated count
    ms: float = 0.0
    # On a sharded cluster, the shard holding each document (backend.shard_map); else [].
    shards: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[Any]:
        return [d.get("_id") for d in self.docs]

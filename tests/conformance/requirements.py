"""Evaluate `runOnRequirements` against what the target server is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .matching import values_equal


class Unsupported(Exception):
    """The runner (not the server) lacks something a test needs; reported as a failure."""


class DriverLacks(Exception):
    """The installed pymongo itself lacks an API a test needs (the runner would use it if it
    were there); reported as a skip that names the pymongo version and the API."""

    def __init__(self, what: str) -> None:
        import pymongo

        super().__init__(f"pymongo {pymongo.version} lacks {what}")


def parse_version(text: str) -> tuple[int, int, int]:
    """'4.1.8' → (4, 1, 8); missing parts are zero, suffixes ('-rc0') are dropped."""
    parts = [int(p.split("-")[0]) for p in str(text).split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


@dataclass
class ServerInfo:
    """Facts about the target that requirements are checked against."""

    version: tuple[int, int, int]
    topology: str
    auth: bool = False
    serverless: bool = False
    csfle: bool = False
    members: int = 1  # data-bearing replica set members (hello.hosts + passives)
    get_parameters: Callable[[], Mapping[str, Any]] = field(default=dict, repr=False)

    def describe(self) -> str:
        return f"{self.topology} {'.'.join(map(str, self.version))}"


def unmet(requirement: Mapping[str, Any], info: ServerInfo) -> str | None:
    """Why one runOnRequirement is not met by `info`, or None when it is."""
    for key, want in requirement.items():
        reason = _check(key, want, info)
        if reason:
            return reason
    return None


def _check(key: str, want: Any, info: ServerInfo) -> str | None:
    if key == "minServerVersion":
        return None if info.version >= parse_version(want) else f"needs server >= {want}"
    if key == "maxServerVersion":
        return None if info.version <= parse_version(want) else f"needs server <= {want}"
    if key == "topologies":
        ok = info.topology in want or (info.topology == "sharded" and "sharded-replicaset" in want)
        return None if ok else f"needs topology {'|'.join(want)}"
    if key == "serverless":
        if want == "require" and not info.serverless:
            return "needs Atlas Serverless"
        if want == "forbid" and info.serverless:
            return "forbids Atlas Serverless"
        return None
    if key == "auth":
        return None if bool(want) == info.auth else f"needs auth={str(want).lower()}"
    if key == "authMechanism":
        return f"needs auth mechanism {want}" if not info.auth else None
    if key == "csfle":
        return None if bool(want) == info.csfle else f"needs csfle={str(want).lower()}"
    if key == "serverParameters":
        params = info.get_parameters()
        for name, value in want.items():
            if name not in params or not values_equal(value, params[name]):
                return f"needs server parameter {name}={value!r}"
        return None
    raise Unsupported(f"runner lacks runOnRequirement key {key!r}")


def skip_reason(requirements: list[Mapping[str, Any]] | None, info: ServerInfo) -> str | None:
    """None when any requirement alternative is met; otherwise a readable reason."""
    if not requirements:
        return None
    reasons = []
    for requirement in requirements:
        reason = unmet(requirement, info)
        if reason is None:
            return None
        reasons.append(reason)
    return f"runOnRequirements not met by {info.describe()}: " + "; or ".join(reasons)

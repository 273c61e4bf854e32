"""The two-phase commit of a cross-shard transaction, as a sharded cluster's transaction
coordinator runs it (issue 15, item 2; the router that starts it comes later).

Phase one sends `prepareTransaction` to every participant at once; each votes to commit
with its `prepareTimestamp`, or to abort (an error, no timestamp, unreachable). The decision
is commit at the largest prepare timestamp, or abort if any participant voted so. Phase two
sends `commitTransaction` with that `commitTimestamp` (or `abortTransaction`) to every
participant until each has it [srv:db/s/transaction_coordinator.cpp
TransactionCoordinator::TransactionCoordinator (the chain of phases);
db/s/transaction_coordinator_util.cpp sendPrepare, sendCommit, sendAbort,
PrepareVoteConsensus::decision]. The coordinator's durable decision document (and a fail
point that stops it before writing it) belong to the router's work; this module keeps the
decision in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bson.int64 import Int64
from bson.timestamp import Timestamp

from .errors import RETRIABLE_CODES
from .wire import HEADER, build_op_msg, parse_op_msg


class Participant(Protocol):
    """A shard taking part in the transaction: its name and a way to run one command on
    its primary (the reply document, ok: 0 for an error; an OSError when unreachable)."""

    name: str

    async def command(self, body: dict[str, Any]) -> dict[str, Any]: ...


class WireParticipant:
    """A participant reached over a socket: one connection to its primary at host:port,
    opened on first use, each command one OP_MSG on the admin database."""

    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        try:
            writer.write(build_op_msg(0, {**body, "$db": "admin"}))
            await writer.drain()
            length, request_id, _, _ = HEADER.unpack(await reader.readexactly(HEADER.size))
            payload = await reader.readexactly(length - HEADER.size)
        except (OSError, asyncio.IncompleteReadError) as exc:
            await self.close()
            raise ConnectionError(f"{self.host}:{self.port} closed the connection") from exc
        return parse_op_msg(request_id, payload).body

    async def close(self) -> None:
        if self._streams is not None:
            _, writer = self._streams
            self._streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


@dataclass(frozen=True)
class CoordinatorEvent:
    """One step the coordinator took, for whoever shows the two phases."""

    # "prepared", "voted abort", "decision", "committed", "aborted", "unacknowledged"
    kind: str
    participant: str | None = None
    timestamp: Timestamp | None = None
    reason: str = ""


@dataclass
class Decision:
    """The outcome: commit at `commit_timestamp`, or abort with the reason."""

    commit: bool
    commit_timestamp: Timestamp | None = None
    abort_reason: str = ""
    prepare_timestamps: dict[str, Timestamp] = field(default_factory=dict)
    events: list[CoordinatorEvent] = field(default_factory=list)

    def reply(self) -> dict[str, Any]:
        """What the router answers the client's commitTransaction: ok, or NoSuchTransaction
        with the abort reason [transaction_coordinator.cpp, the abort decision's status]."""
        if self.commit:
            return {"ok": 1.0}
        return {
            "ok": 0.0,
            "errmsg": self.abort_reason,
            "code": 251,
            "codeName": "NoSuchTransaction",
            "errorLabels": ["TransientTransactionError"],
        }


# A participant's error worth sending the command again for (a primary stepping down, a
# network error): the coordinator retries those and nothing else [transaction_coordinator_
# util.cpp, the retry predicates of sendPrepareToShard and sendDecisionToShard].
_MAX_ATTEMPTS = 5


def _retriable(reply: dict[str, Any]) -> bool:
    return reply.get("code") in RETRIABLE_CODES


class TransactionCoordinator:
    """Commit one transaction (`lsid`, `txn_number`) across `participants`."""

    def __init__(
        self,
        lsid: dict[str, Any],
        txn_number: int,
        participants: Sequence[Participant],
        on_event: Callable[[CoordinatorEvent], None] | None = None,
    ) -> None:
        if len({p.name for p in participants}) != len(participants):
            # [db/s/txn_two_phase_commit_cmds.cpp CoordinateCommitTransactionCmd]
            raise ValueError("participant list contained duplicate shardId")
        self.lsid = lsid
        self.txn_number = txn_number
        self.participants = list(participants)
        self._on_event = on_event
        self.decision: Decision | None = None

    def _fields(self) -> dict[str, Any]:
        return {"lsid": self.lsid, "txnNumber": Int64(self.txn_number), "autocommit": False}

    def _note(self, decision: Decision, event: CoordinatorEvent) -> None:
        decision.events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    async def _send(self, participant: Participant, body: dict[str, Any]) -> dict[str, Any]:
        """Run `body` on `participant`, again while the answer is retriable; an unreachable
        participant after the last attempt answers a HostUnreachable error."""
        reply: dict[str, Any] = {}
        for _ in range(_MAX_ATTEMPTS):
            try:
                reply = await participant.command({**body, **self._fields()})
            except OSError as exc:
                reply = {"ok": 0.0, "code": 6, "codeName": "HostUnreachable", "errmsg": str(exc)}
                continue
            if reply.get("ok") or not _retriable(reply):
                return reply
        return reply

    async def run(self) -> Decision:
        """Both phases; the decision once every participant has it."""
        decision = Decision(commit=True)
        majority = {"writeConcern": {"w": "majority"}}
        replies = await asyncio.gather(
            *(self._send(p, {"prepareTransaction": 1, **majority}) for p in self.participants)
        )
        for participant, reply in zip(self.participants, replies, strict=True):
            ts = reply.get("prepareTimestamp")
            if reply.get("ok") and isinstance(ts, Timestamp):
                decision.prepare_timestamps[participant.name] = ts
                self._note(decision, CoordinatorEvent("prepared", participant.name, ts))
                continue
            reason = (
                f"from shard {participant.name} :: caused by :: {reply.get('errmsg', '')}"
                if not reply.get("ok")
                else f"shard {participant.name} did not return a prepareTimestamp"
            )
            if decision.commit:
                decision.commit, decision.abort_reason = False, reason
            self._note(decision, CoordinatorEvent("voted abort", participant.name, reason=reason))
        if decision.commit:
            decision.commit_timestamp = max(decision.prepare_timestamps.values())
        self._note(
            decision,
            CoordinatorEvent(
                "decision",
                timestamp=decision.commit_timestamp,
                reason="commit" if decision.commit else decision.abort_reason,
            ),
        )
        self.decision = decision
        if decision.commit:
            body: dict[str, Any] = {
                "commitTransaction": 1,
                "commitTimestamp": decision.commit_timestamp,
                **majority,
            }
        else:
            body = {"abortTransaction": 1, **majority}
        outcomes = await asyncio.gather(*(self._send(p, body) for p in self.participants))
        kind = "committed" if decision.commit else "aborted"
        for participant, reply in zip(self.participants, outcomes, strict=True):
            # An abort a participant answers NoSuchTransaction to is done all the same (it
            # never prepared, or already aborted).
            done = bool(reply.get("ok")) or (not decision.commit and reply.get("code") == 251)
            self._note(
                decision,
                CoordinatorEvent(
                    kind if done else "unacknowledged",
                    participant.name,
                    reason="" if done else str(reply.get("errmsg", "")),
                ),
            )
        return decision

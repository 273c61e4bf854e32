"""One lane = one AsyncClientSession. One operation at a time per session (the server
requires it: two statements sent together while STARTING both carry startTransaction)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model.errors import ErrorInfo
from ..model.lanes import Lane, OpStatus, QueuedOp, TxnOptions, TxnState
from ..model.ops import OpKind
from .operations import error_info, execute

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient
    from pymongo.asynchronous.client_session import AsyncClientSession

Clock = Callable[[], float]
# Codes the server raises before it checks the session out: they leave the txn alone (§3.6).
_BEFORE_CHECKOUT = {72, 263}


class LaneBusy(RuntimeError):
    pass


class LaneRunner:
    """Drives the session behind one lane; updates the Lane model in place."""

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        lane: Lane,
        db_name: str,
        clock: Clock,
        perf: Clock,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        self.client = client
        self.lane = lane
        self.db_name = db_name
        self.clock = clock
        self.perf = perf
        self.scrub = scrub
        self.session: AsyncClientSession | None = None
        self.lock = asyncio.Lock()

    # -- session ----------------------------------------------------------------------
    def ensure_session(self) -> AsyncClientSession:
        if self.session is None:
            self.session = self.client.start_session()
            self.lane.session_ended = False
            self.lane.txn_state = TxnState.NONE
            self._sync_ids()
        return self.session

    def _sync_ids(self) -> None:
        s = self.session
        if s is None:
            return
        try:
            self.lane.lsid = s.session_id["id"].hex()
            self.lane.txn_number = int(s._transaction_id)
        except Exception:
            pass

    def _guard(self, what: str) -> None:
        if self.lock.locked():
            raise LaneBusy(f"Lane {self.lane.name} is busy ({self.lane.busy}); {what} waits")

    # -- transaction --------------------------------------------------------------------
    async def start_transaction(self, options: TxnOptions | None = None) -> None:
        from pymongo import ReadPreference, WriteConcern
        from pymongo.read_concern import ReadConcern

        self._guard("start transaction")
        async with self.lock:
            opts = options or self.lane.txn_options
            session = self.ensure_session()
            wc = None
            if opts.write_concern:
                w: Any = (
                    int(opts.write_concern) if opts.write_concern.isdigit() else opts.write_concern
                )
                wc = WriteConcern(w=w)
            prefs = {
                "primary": ReadPreference.PRIMARY,
                "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
                "secondary": ReadPreference.SECONDARY,
                "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
                "nearest": ReadPreference.NEAREST,
            }
            await session.start_transaction(
                read_concern=ReadConcern(opts.read_concern) if opts.read_concern else None,
                write_concern=wc,
                read_preference=prefs.get(opts.read_preference, ReadPreference.PRIMARY),
                max_commit_time_ms=opts.max_commit_time_ms,
            )
            self.lane.txn_options = opts
            self.lane.txn_state = TxnState.STARTING
            self.lane.txn_opened_at = None
            self.lane.txn_ended_at = None
            self.lane.server_aborted = None
            self.lane.last_error = None
            self.lane.view = None
            self._sync_ids()

    async def commit(self) -> tuple[str, ErrorInfo | None, float]:
        return await self._finish(commit=True)

    async def abort(self) -> tuple[str, ErrorInfo | None, float]:
        return await self._finish(commit=False)

    async def _finish(self, commit: bool) -> tuple[str, ErrorInfo | None, float]:
        self._guard("commit" if commit else "abort")
        async with self.lock:
            session = self.ensure_session()
            lane = self.lane
            was = lane.txn_state
            lane.busy = "commit" if commit else "abort"
            t0 = self.perf()
            err: ErrorInfo | None = None
            try:
                if commit:
                    await session.commit_transaction()
                else:
                    await session.abort_transaction()
            except Exception as exc:  # pymongo raises; we show it
                err = error_info(exc, self.scrub)
            finally:
                lane.busy = ""
            ms = (self.perf() - t0) * 1000
            if err is None or not err.client_side:
                # pymongo: commit leaves COMMITTED even when it raised; abort always ABORTED.
                if err is None or commit:
                    lane.txn_state = TxnState.COMMITTED if commit else TxnState.ABORTED
                    lane.txn_ended_at = self.clock()
            lane.last_error = err
            if err is None:
                if commit and was is TxnState.STARTING:
                    outcome = "committed (empty: nothing was sent)"
                elif not commit and was is TxnState.STARTING:
                    outcome = "aborted (nothing was sent)"
                else:
                    outcome = "committed" if commit else "aborted"
                lane.view = None
            else:
                outcome = err.one_line()
            return outcome, err, ms

    async def end_session(self) -> None:
        self._guard("end session")
        async with self.lock:
            if self.session is not None:
                await self.session.end_session()
                self.session = None
            if self.lane.in_txn:
                self.lane.txn_state = TxnState.ABORTED
                self.lane.txn_ended_at = self.clock()
            self.lane.session_ended = True
            self.lane.view = None

    # -- operations ---------------------------------------------------------------------
    async def run(self, item: QueuedOp, outside: bool = False) -> QueuedOp:
        """Run one queued operation on this session (or with no session when `outside`)."""
        self._guard("the next operation")
        async with self.lock:
            lane = self.lane
            session = None if outside else self.ensure_session()
            in_txn = (not outside) and lane.in_txn
            item.status = OpStatus.RUNNING
            item.started_at = self.clock()
            item.in_txn = in_txn
            item.error = None
            lane.busy = item.spec.kind.value
            if in_txn and lane.txn_state is TxnState.STARTING:
                # pymongo moves to IN_PROGRESS as soon as the first statement is sent,
                # and the server opens the snapshot and starts its lifetime clock then.
                lane.txn_state = TxnState.IN_PROGRESS
                lane.txn_opened_at = self.clock()
            t0 = self.perf()
            try:
                result, summary = await execute(self.client[self.db_name], item.spec, session)
            except asyncio.CancelledError:
                item.status = OpStatus.FAILED
                item.error = ErrorInfo(None, "Cancelled", "the operation was cancelled", ())
                raise
            except Exception as exc:
                item.status = OpStatus.FAILED
                item.error = error_info(exc, self.scrub)
                lane.last_error = item.error
                from pymongo.errors import OperationFailure

                if (
                    in_txn
                    and isinstance(exc, OperationFailure)
                    and exc.code not in _BEFORE_CHECKOUT
                ):
                    lane.server_aborted = item.error
            else:
                item.status = OpStatus.DONE
                item.summary = summary
                item.result = result
                lane.last_error = None
            finally:
                item.duration_ms = (self.perf() - t0) * 1000
                item.waiting = False
                lane.busy = ""
                self._sync_ids()
            return item

    async def read_view(
        self, collection: str, committed_ids: list[Any], limit: int
    ) -> list[dict[str, Any]] | None:
        """What this session reads inside its transaction, without disturbing it.

        Reads only after the first statement ran (never starts the snapshot early), only
        when the lane is idle, and only while the server still has the transaction.
        """
        lane = self.lane
        if (
            self.session is None
            or lane.txn_state is not TxnState.IN_PROGRESS
            or lane.server_aborted is not None
            or self.lock.locked()
        ):
            return None
        async with self.lock:
            coll = self.client[self.db_name][collection]
            try:
                found: dict[str, dict[str, Any]] = {}
                if committed_ids:
                    async for d in coll.find({"_id": {"$in": committed_ids}}, session=self.session):
                        found[repr(d.get("_id"))] = d
                ordered = [found.pop(repr(i)) for i in committed_ids if repr(i) in found]
                cursor = coll.find({}, session=self.session, sort=[("_id", 1)]).limit(limit)
                seen = {repr(d.get("_id")) for d in ordered}
                async for d in cursor:
                    if repr(d.get("_id")) not in seen:
                        ordered.append(d)
            except Exception as exc:
                lane.view_note = f"view unavailable: {error_info(exc, self.scrub).one_line()}"
                return None
            lane.view_note = ""
            return ordered


__all__ = ["LaneBusy", "LaneRunner", "OpKind"]

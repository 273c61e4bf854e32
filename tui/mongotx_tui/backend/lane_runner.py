"""One lane = one AsyncClientSession. One operation at a time per session (the server
requires it: two statements sent together while STARTING both carry startTransaction)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model.error_info import ErrorInfo, statement_aborts
from ..model.lanes import READ_PREFERENCES, Lane, OpStatus, QueuedOp, TxnOptions, TxnState
from ..model.literals import format_value
from ..model.ops import OpKind
from .operations import error_info, execute

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient
    from pymongo.asynchronous.client_session import AsyncClientSession

Clock = Callable[[], float]


async def server_has_transaction(
    client: AsyncMongoClient[dict[str, Any]], lsid: Any, txn_number: int
) -> bool | None:
    """Ask the server whether this session's transaction is still open, without touching
    it: `$currentOp` with `idleSessions` lists a session that holds an open transaction
    while no statement runs, and an active one while a statement runs (the manual's
    $currentOp page; reference §5.1). None when the server can't be asked (no privilege to
    run $currentOp, or no reply)."""
    pipeline = [
        {"$currentOp": {"idleSessions": True}},
        {"$match": {"lsid.id": lsid}},
    ]
    try:
        cursor = await client.admin.aggregate(pipeline)
        found = await cursor.to_list(None)
    except Exception:
        return None
    for op in found:
        params = (op.get("transaction") or {}).get("parameters") or {}
        if params.get("txnNumber") == txn_number:
            return True
    return False


def txn_kwargs(opts: TxnOptions) -> dict[str, Any]:
    """Transaction options as pymongo objects, from the one table (TxnOptions.driver_args)
    that the export writes as code."""
    from pymongo import ReadPreference, WriteConcern
    from pymongo.read_concern import ReadConcern

    make: dict[str, Callable[[Any], Any]] = {
        "ReadConcern": ReadConcern,
        "WriteConcern": lambda w: WriteConcern(w=w),
        "ReadPreference": lambda mode: getattr(ReadPreference, mode),
        "": lambda value: value,
    }
    return {keyword: make[cls](arg) for keyword, cls, arg in opts.driver_args()}


class LaneBusy(RuntimeError):
    pass


class LaneRunner:
    """Drives the session behind one lane; updates the Lane model in place."""

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        lane: Lane,
        database: Callable[[], str],
        clock: Clock,
        perf: Clock,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        self.client = client
        self.lane = lane
        self.database = database  # the workbench's watched database, read when used
        self.clock = clock
        self.perf = perf
        self.scrub = scrub
        self.session: AsyncClientSession | None = None
        self.lock = asyncio.Lock()
        # The workbench's record of the lsids its lanes had: lsid hex → (lane id, name).
        self.lsids_seen: dict[str, tuple[int, str]] | None = None

    # -- session ----------------------------------------------------------------------
    def ensure_session(self) -> AsyncClientSession:
        if self.session is None:
            self.session = self.client.start_session(**self.lane.options.session_args())
            self.lane.session_started()
            self._sync_ids()
            self._note_pooled()
        return self.session

    def _note_pooled(self) -> None:
        """pymongo hands out server sessions from its pool: a new lane can get the lsid an
        ended lane (or the driver's own implicit sessions) used, and the transaction
        numbers go on from there. Say so on the lane's session line (↺, the README explains
        it) rather than let it look like a bug: `↺ was lane B's, txn 1 used`."""
        lane = self.lane
        used = self.lsids_seen.get(lane.lsid) if self.lsids_seen is not None else None
        used_before = lane.txn_number is not None and lane.txn_number > 0
        if used is not None and used[0] != lane.id:
            lane.lsid_note = f"was lane {used[1]}'s"
        elif used is not None:
            lane.lsid_note = "pooled again"
        elif used_before:
            lane.lsid_note = "pooled"
        else:
            lane.lsid_note = ""
        if lane.txn_number == 1:
            lane.lsid_note += ", txn 1 used"
        elif used_before:
            lane.lsid_note += f", txns 1-{lane.txn_number} used"
        if self.lsids_seen is not None and lane.lsid:
            self.lsids_seen[lane.lsid] = (lane.id, lane.name)

    def _sync_ids(self) -> None:
        s = self.session
        if s is None:
            return
        try:
            self.lane.lsid = s.session_id["id"].hex()
            self.lane.txn_number = int(s._transaction_id)
        except Exception:
            pass

    def guard(self, what: str) -> None:
        if self.lock.locked():
            raise LaneBusy(f"Lane {self.lane.name} is busy ({self.lane.busy}); {what} waits")

    # -- transaction --------------------------------------------------------------------
    async def start_transaction(self, options: TxnOptions | None = None) -> None:
        self.guard("start transaction")
        async with self.lock:
            opts = options or self.lane.txn_options
            session = self.ensure_session()
            await session.start_transaction(**txn_kwargs(opts))
            self.lane.txn_options = opts
            self.lane.to_starting()
            self._sync_ids()

    async def commit(self) -> tuple[str, ErrorInfo | None, float]:
        return await self._finish(commit=True)

    async def abort(self) -> tuple[str, ErrorInfo | None, float]:
        return await self._finish(commit=False)

    async def _finish(self, commit: bool) -> tuple[str, ErrorInfo | None, float]:
        self.guard("commit" if commit else "abort")
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
            if commit:
                outcome = lane.after_commit(was, err, self.clock())
            else:
                outcome = lane.after_abort(was, err, self.clock())
            return outcome, err, ms

    async def end_session(self) -> None:
        self.guard("end session")
        async with self.lock:
            if self.session is not None:
                await self.session.end_session()
                self.session = None
            # endSessions: the server aborts the session's open transaction
            self.lane.session_ended_by(
                self.clock(), "the session was ended, which aborts its transaction"
            )
            self.lane.session_ended = True

    # -- operations ---------------------------------------------------------------------
    async def run(self, item: QueuedOp, outside: bool = False) -> QueuedOp:
        """Run one queued operation on this session (or with no session when `outside`)."""
        self.guard("the next operation")
        async with self.lock:
            lane = self.lane
            session = None if outside else self.ensure_session()
            in_txn = (not outside) and lane.in_txn
            item.begin(self.clock(), in_txn)
            lane.busy = item.spec.kind.value
            if in_txn:
                # pymongo moves to IN_PROGRESS as soon as the first statement is sent,
                # and the server opens the snapshot and starts its lifetime clock then.
                lane.to_in_progress(self.clock())
            txn_number = lane.txn_number
            t0 = self.perf()
            try:
                values = item.spec.values()  # parsed before the clock starts: took = server
                t0 = self.perf()
                db = self._database(in_txn)
                result, summary = await execute(db, item.spec, session, values)
            except asyncio.CancelledError:
                item.status = OpStatus.FAILED
                item.error = ErrorInfo(None, "Cancelled", "the operation was cancelled", ())
                raise
            except Exception as exc:
                ms = (self.perf() - t0) * 1000  # the reply's time, not the $currentOp's
                aborted = None
                if in_txn and lane.txn_state is TxnState.IN_PROGRESS:
                    aborted = await self._aborted_after(exc, txn_number)
                # the item, the lane's error and its state change together (no await between)
                error = error_info(exc, self.scrub, aborted)
                item.end(error, None, "", ms)
                lane.last_error = error
                if aborted:
                    lane.to_server_aborted(error, self.clock())
            else:
                item.end(None, result, summary, (self.perf() - t0) * 1000)
                lane.last_error = None
            finally:
                item.waiting = False
                lane.busy = ""
                self._sync_ids()
            return item

    def _database(self, in_txn: bool) -> Any:
        """The lane's database. Outside a transaction its reads go where the lane's read
        preference says (a transaction's carries it already: txn_kwargs); the driver sends
        writes and commands to the primary whatever it says."""
        name = self.database()
        mode = self.lane.txn_options.read_preference
        if in_txn or mode == "primary":
            return self.client[name]
        from pymongo import ReadPreference

        preference = getattr(ReadPreference, READ_PREFERENCES.get(mode, "PRIMARY"))
        return self.client.get_database(name, read_preference=preference)

    async def _aborted_after(self, exc: BaseException, txn_number: int | None) -> bool | None:
        """Whether the server aborted the lane's transaction after this statement error.

        The code decides first (model.errors: errors raised before the session is checked
        out leave the transaction; the others abort it, and 251 says it is gone). Then,
        where the server lets us, $currentOp says whether the transaction is still there
        (a failCommand error of any code leaves it open). With no reply at all (a lost
        connection) nothing is known, and the state stays as the last reply left it.
        """
        code = getattr(exc, "code", None)
        details = getattr(exc, "details", None)
        if code is None and isinstance(details, dict):
            code = details.get("code")
        if code == 251:
            return True  # NoSuchTransaction: the server itself says it has none
        if code is None:
            return None  # no reply (network, driver): nothing says what the server did
        if not statement_aborts(code):
            return False
        asked = None
        if self.session is not None and txn_number is not None:
            lsid = self.session.session_id["id"]
            asked = await server_has_transaction(self.client, lsid, txn_number)
        return True if asked is None else not asked

    async def read_view(
        self, collection: str, committed_ids: list[Any], limit: int
    ) -> list[dict[str, Any]] | None:
        """What this session reads inside its transaction, without disturbing it.

        Reads only after the first statement ran (never starts the snapshot early), only
        when the lane is idle, and only while the server still has the transaction. Also
        reads, outside the transaction, the committed version of every document the view
        holds that the committed panel's page does not show (lane.view_base), so that each
        document is compared with its own committed version whatever page is shown.
        """
        lane = self.lane
        if self.session is None or lane.txn_state is not TxnState.IN_PROGRESS or self.lock.locked():
            return None
        async with self.lock:
            coll = self.client[self.database()][collection]
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
                shown = {repr(i) for i in committed_ids}
                others = [d.get("_id") for d in ordered if repr(d.get("_id")) not in shown]
                base: dict[str, dict[str, Any]] = {}
                if others:  # no session: the committed state, not the transaction's
                    async for d in coll.find({"_id": {"$in": others}}):
                        base[format_value(d.get("_id"))] = d
            except Exception as exc:
                lane.view_note = f"view unavailable: {error_info(exc, self.scrub).one_line()}"
                return None
            lane.view_note = ""
            lane.view_base = base
            return ordered


__all__ = ["LaneBusy", "LaneRunner", "OpKind"]

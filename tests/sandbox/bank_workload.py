"""The bank run (issue 16): transfers in transactions, snapshot readers and a retryable
counter, on threads and one asyncio task group, while bank_faults injects faults.

A transfer is retried until its outcome is known: a statement error means the
transaction did not commit (a new one is started, same transfer id); a commit whose
outcome is unknown is asked again (commitTransaction is idempotent). So every transfer
ends acknowledged, and the ledger must hold exactly the acknowledged ones.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern

from .bank_faults import DB, Progress

ACCOUNTS = 10
INITIAL = 100
TOTAL = ACCOUNTS * INITIAL
MAX_ATTEMPTS = 400  # transactions per transfer; far above what contention needs
MAX_COMMITS = 50  # commit retries per transaction


@dataclass(frozen=True)
class Transfer:
    tid: str
    src: int
    dst: int
    amount: int

    def ledger_entry(self) -> dict[str, Any]:
        return {"_id": self.tid, "src": self.src, "dst": self.dst, "amount": self.amount}


def plan(seed: int, worker: str, count: int) -> list[Transfer]:
    rng = random.Random(f"{seed}-{worker}")
    out = []
    for i in range(count):
        src, dst = rng.sample(range(ACCOUNTS), 2)
        out.append(Transfer(f"{worker}-{i}", src, dst, rng.randint(1, 20)))
    return out


@dataclass
class Tally:
    """What the workers know: acknowledged transfers and increments, snapshot totals."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)
    duplicates: list[str] = field(default_factory=list)  # DuplicateKey on a ledger _id
    txn_attempts: int = 0
    commit_retries: int = 0
    statement_errors: Counter[str] = field(default_factory=Counter)  # unlabelled, pre-commit
    odd_commit_errors: Counter[str] = field(default_factory=Counter)  # neither label
    inc_acked: int = 0
    inc_unknown: Counter[str] = field(default_factory=Counter)
    totals: list[int] = field(default_factory=list)
    torn_reads: list[str] = field(default_factory=list)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def note(self, name: str, exc: PyMongoError) -> None:
        """Count an error in the Counter `name`, by code (or type for network errors)."""
        code = getattr(exc, "code", None)
        with self.lock:
            getattr(self, name)[str(code) if code is not None else type(exc).__name__] += 1

    def record(self, t: Transfer, acknowledged: bool) -> None:
        with self.lock:
            if acknowledged:
                self.acked.add(t.tid)
            else:
                # The ledger already had this transfer: an attempt the server had answered
                # as not committed (or left unknown) had in fact committed.
                self.duplicates.append(t.tid)


def check_updates(*results: Any) -> None:
    if any(r.matched_count != 1 for r in results):
        raise AssertionError("a transfer's account was not found")


# ---- sync transfers ------------------------------------------------------------------
def _statements(client: MongoClient, session: Any, t: Transfer) -> None:
    db = client[DB]
    r1 = db.accounts.update_one({"_id": t.src}, {"$inc": {"bal": -t.amount}}, session=session)
    r2 = db.accounts.update_one({"_id": t.dst}, {"$inc": {"bal": t.amount}}, session=session)
    check_updates(r1, r2)
    db.ledger.insert_one(t.ledger_entry(), session=session)


def _settle_commit(session: Any, tally: Tally) -> bool:
    """Ask again until the commit's outcome is known: True committed, False aborted."""
    for _ in range(MAX_COMMITS):
        try:
            session.commit_transaction()
            return True
        except PyMongoError as exc:
            if exc.has_error_label("TransientTransactionError"):
                return False
            if not exc.has_error_label("UnknownTransactionCommitResult"):
                tally.note("odd_commit_errors", exc)
            tally.add("commit_retries")
    raise AssertionError("a commit's outcome stayed unknown")


class Statements:
    """with_transaction's callback; `committing` tells whether an error came from the
    commit (all statements ran) or from a statement (the transaction did not commit)."""

    def __init__(self, client: MongoClient, t: Transfer, tally: Tally) -> None:
        self.client, self.t, self.tally = client, t, tally
        self.committing = False

    def __call__(self, session: Any) -> None:
        self.committing = False
        self.tally.add("txn_attempts")
        _statements(self.client, session, self.t)
        self.committing = True


def transfer_with_transaction(client: MongoClient, t: Transfer, tally: Tally) -> bool:
    """with_transaction; True once acknowledged, False when the ledger _id already existed."""
    for _ in range(MAX_ATTEMPTS):
        with client.start_session() as session:
            callback = Statements(client, t, tally)
            try:
                session.with_transaction(callback)
                return True
            except DuplicateKeyError:
                return False
            except PyMongoError as exc:
                if not callback.committing:
                    # A statement failed without TransientTransactionError: with_transaction
                    # aborted the transaction, so it did not commit; start a new one.
                    tally.note("statement_errors", exc)
                    continue
                if _settle_commit(session, tally):
                    return True
    raise AssertionError(f"transfer {t.tid} never committed")


def transfer_by_hand(client: MongoClient, t: Transfer, tally: Tally, rng: random.Random) -> bool:
    """Label-keyed retries: TransientTransactionError reruns the transaction,
    UnknownTransactionCommitResult reruns the commit."""
    with client.start_session() as session:
        for attempt in range(MAX_ATTEMPTS):
            tally.add("txn_attempts")
            session.start_transaction()
            try:
                _statements(client, session, t)
            except DuplicateKeyError:
                session.abort_transaction()
                return False
            except PyMongoError as exc:
                if session.in_transaction:
                    session.abort_transaction()
                if not exc.has_error_label("TransientTransactionError"):
                    tally.note("statement_errors", exc)
                time.sleep(backoff(rng, attempt))
                continue
            if _settle_commit(session, tally):
                return True
            time.sleep(backoff(rng, attempt))
    raise AssertionError(f"transfer {t.tid} never committed")


def backoff(rng: random.Random, attempt: int) -> float:
    # Jittered like with_transaction's, so that contending workers spread out.
    return rng.random() * min(0.005 * 1.5**attempt, 0.1)


def increment(client: MongoClient, tally: Tally) -> None:
    """One retryable $inc: acknowledged, or its outcome is unknown to the client."""
    try:
        client[DB].counter.update_one({"_id": "n"}, {"$inc": {"n": 1}})
    except PyMongoError as exc:
        tally.note("inc_unknown", exc)
        return
    tally.add("inc_acked")


def sync_worker(
    client: MongoClient, transfers: list[Transfer], by_hand: bool, tally: Tally, progress: Progress
) -> None:
    rng = random.Random(transfers[0].tid if transfers else 0)
    for t in transfers:
        if by_hand:
            done = transfer_by_hand(client, t, tally, rng)
        else:
            done = transfer_with_transaction(client, t, tally)
        tally.record(t, done)
        progress.tick()
        increment(client, tally)
        progress.tick()


# ---- snapshot readers -----------------------------------------------------------------
def books_error(accounts: list[dict[str, Any]], ledger: list[dict[str, Any]]) -> str | None:
    """None if balances match the ledger at this snapshot, else what is wrong."""
    expected = dict.fromkeys(range(ACCOUNTS), INITIAL)
    for e in ledger:
        expected[e["src"]] -= e["amount"]
        expected[e["dst"]] += e["amount"]
    balances = {a["_id"]: a["bal"] for a in accounts}
    if balances != expected:
        return f"balances {balances} but the ledger ({len(ledger)} entries) gives {expected}"
    return None


def reader(
    client: MongoClient, reads: int, in_transaction: bool, tally: Tally, progress: Progress
) -> None:
    """Read accounts and ledger at one snapshot: a snapshot transaction, or a snapshot session."""
    db = client[DB]
    for _ in range(reads):
        for _attempt in range(MAX_ATTEMPTS):
            try:
                if in_transaction:
                    with client.start_session() as s:
                        with s.start_transaction(read_concern=ReadConcern("snapshot")):
                            accounts = list(db.accounts.find({}, session=s))
                            ledger = list(db.ledger.find({}, session=s))
                else:
                    with client.start_session(snapshot=True) as s:
                        accounts = list(db.accounts.find({}, session=s))
                        ledger = list(db.ledger.find({}, session=s))
            except PyMongoError:
                # A kill between the reads and the (read-only) commit: read again.
                continue
            break
        else:
            raise AssertionError("a snapshot read never completed")
        wrong = books_error(accounts, ledger)
        with tally.lock:
            tally.totals.append(sum(a["bal"] for a in accounts))
            if wrong:
                tally.torn_reads.append(wrong)
        progress.tick()

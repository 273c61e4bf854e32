"""Errors as the workbench shows them: code, codeName, message, labels, and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"

# Errors the server raises before it checks the session out, so they leave an open
# transaction as it was. The server's command path runs, in order: the failCommand fail
# point, the session-field checks, write-concern parsing, then the session checkout
# (srv: db/service_entry_point_common.cpp, ExecCommandDatabase::_initiateCommand;
# db/initialize_operation_session_info.cpp for 50768 and 20, IllegalOperation). 263 is
# "Cannot run 'count' in a multi-document transaction" and friends, 72 a writeConcern or
# a late readConcern on a statement (the transactions reference §3.1, §3.6 and §3.10 in
# the project's shared docs, mongodb-transactions.md). beginOrContinue's refusals (225,
# 117) leave the server's state as it was, but that state may be a newer transaction: those
# go to $currentOp like the rest.
BEFORE_CHECKOUT = frozenset({72, 263, 50768, 20})

# Any other error the server reports for a statement of a transaction aborts the
# transaction before the reply is sent (srv: db/service_entry_point_common.cpp,
# CheckoutSessionAndInvokeCommand::_cleanupTransaction; the transactions spec, "Handling
# command errors": a later commit gets NoSuchTransaction). That includes write errors
# reported with ok: 1, e.g. DuplicateKey (srv: db/ops/write_ops_exec.cpp handleError aborts
# the transaction; SERVER-34059 "DuplicateKeyError aborts transaction", DOCS-11493).
# failCommand errors are the exception that the code cannot show (the fail point fires
# before checkout), so the workbench asks the server with $currentOp where it can.

# The codes after which a primary is gone or going (pymongo raises NotPrimaryError for
# them; the SDAM spec's "not writable primary" and "node is shutting down" lists).
NOT_PRIMARY_CODES = frozenset({10107, 13435, 13436, 189, 11600, 11602, 91})


def statement_aborts(code: int | None) -> bool:
    """Whether a server error on a transaction's statement aborts the transaction (the
    rule above; the workbench confirms it with $currentOp where the server lets it)."""
    return code is not None and code not in BEFORE_CHECKOUT


ADVICE = {
    TRANSIENT: "Retry the whole transaction: abort it (x), start a new one (t) and run every "
    "operation again.",
    UNKNOWN_COMMIT: "Retry the commit (c): it may or may not have been applied, and "
    "commitTransaction is safe to run again.",
    None: "Do not retry: the same operation will fail the same way; fix it or the data.",
}

# pymongo's own refusals (InvalidOperation): the command was never sent.
DRIVER_ADVICE = {
    "Transaction already in progress": "Abort the transaction first (x), or commit it (c); "
    "then start the new one.",
    "No transaction started": "Start a transaction first (t).",
    "Cannot call abortTransaction twice": "The transaction has already ended: start a new one (t).",
    "Cannot call abortTransaction after calling commitTransaction": "The transaction was "
    "committed: start a new one (t).",
    "Cannot call commitTransaction after calling abortTransaction": "The transaction was "
    "aborted: start a new one (t) and run its operations again.",
}

ABORTED_ADVICE = (
    "The server aborted the transaction: abort it (x), fix the operation or the data, then "
    "run the transaction again."
)
KEPT_OPEN_ADVICE = (
    "The server refused this statement before it touched the transaction, which is still "
    "open: change the operation, or commit (c) / abort (x)."
)
NOT_PRIMARY_ADVICE = (
    "The server is stepping down or shutting down: retry once a primary is available (with "
    "retryWrites on, the driver retries a retryable write once before an error reaches you)."
)
CONNECTION_ADVICE = (
    "No reply from the server: check that it is running and reachable; the lane keeps its "
    "queue, and F2 reconnects."
)


@dataclass(frozen=True)
class ErrorInfo:
    """A failed command as the lane shows it: code, codeName, message and error labels."""

    code: int | None
    code_name: str
    message: str
    labels: tuple[str, ...] = field(default_factory=tuple)
    client_side: bool = False  # no server reply: the driver's own error or the network
    write_concern: bool = False  # a writeConcernError (the write itself was applied)
    # a statement of a transaction: whether the server aborted the transaction after it
    # (None: not a transaction's statement, or not known)
    txn_aborted: bool | None = None
    # a WriteConflict: who holds the document, as far as the workbench knows (its lanes'
    # open transactions), else that none of its lanes does
    conflict_with: str = ""
    conflict_lane: str = ""  # that lane, as the timeline names it: `lane A (txn 2)`
    conflict_holder: str = ""  # that lane's name alone: `A` (presenter mode's caption)

    @property
    def advice(self) -> str:
        """What to do, by MongoDB's rules (the labels first, as the drivers' spec says)."""
        if UNKNOWN_COMMIT in self.labels:
            return ADVICE[UNKNOWN_COMMIT]
        if TRANSIENT in self.labels:
            return ADVICE[TRANSIENT]
        if self.client_side:
            for start, advice in DRIVER_ADVICE.items():
                if self.message.startswith(start):
                    return advice
            return CONNECTION_ADVICE if self.code is None and self.connection else ADVICE[None]
        if self.code in NOT_PRIMARY_CODES:
            return NOT_PRIMARY_ADVICE
        if self.txn_aborted is not None:
            return ABORTED_ADVICE if self.txn_aborted else KEPT_OPEN_ADVICE
        return ADVICE[None]

    @property
    def connection(self) -> bool:
        """A network or server-selection failure (no reply at all)."""
        return self.client_side and self.code_name in CONNECTION_NAMES

    @property
    def headline(self) -> str:
        code = f"{self.code} " if self.code is not None else ""
        return f"{code}{self.code_name}"

    def one_line(self) -> str:
        labels = f" [{', '.join(self.labels)}]" if self.labels else ""
        return f"{self.headline}{labels}"


# Headlines of the errors that carry no server reply (backend.operations.error_info).
CONNECTION_NAMES = frozenset(
    {"no server available", "connection lost", "network timeout", "cannot connect"}
)

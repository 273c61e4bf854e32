"""Errors as the workbench shows them: code, codeName, message, labels, and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"

CODE_NAMES = {
    6: "HostUnreachable",
    7: "HostNotFound",
    11: "UserNotFound",
    13: "Unauthorized",
    18: "AuthenticationFailed",
    50: "MaxTimeMSExpired",
    64: "WriteConcernFailed",
    89: "NetworkTimeout",
    91: "ShutdownInProgress",
    112: "WriteConflict",
    117: "ConflictingOperationInProgress",
    189: "PrimarySteppedDown",
    225: "TransactionTooOld",
    251: "NoSuchTransaction",
    256: "TransactionCommitted",
    263: "OperationNotSupportedInTransaction",
    290: "TransactionExceededLifetimeLimitSeconds",
    10107: "NotWritablePrimary",
    11000: "DuplicateKey",
    11600: "InterruptedAtShutdown",
    11601: "Interrupted",
    11602: "InterruptedDueToReplStateChange",
    13435: "NotPrimaryNoSecondaryOk",
}

ADVICE = {
    TRANSIENT: "Retry the whole transaction: abort it, start a new one and run every "
    "operation again.",
    UNKNOWN_COMMIT: "Retry the commit: it may or may not have been applied, and "
    "commitTransaction is safe to run again.",
    None: "Do not retry: the same operation will fail the same way; fix it or the data.",
}


@dataclass(frozen=True)
class ErrorInfo:
    code: int | None
    code_name: str
    message: str
    labels: tuple[str, ...] = field(default_factory=tuple)
    client_side: bool = False

    @property
    def advice(self) -> str:
        if UNKNOWN_COMMIT in self.labels:
            return ADVICE[UNKNOWN_COMMIT]
        if TRANSIENT in self.labels:
            return ADVICE[TRANSIENT]
        return ADVICE[None]

    @property
    def headline(self) -> str:
        code = f"{self.code} " if self.code is not None else ""
        return f"{code}{self.code_name}"

    def one_line(self) -> str:
        labels = f" [{', '.join(self.labels)}]" if self.labels else ""
        return f"{self.headline}{labels}"

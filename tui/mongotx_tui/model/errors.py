"""Errors as the workbench shows them: code, codeName, message, labels, and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field

# One table of MongoDB's code names (base/error_codes.yml), shared with the sandbox.
from mongotx_sandbox.errors import CODE_NAMES as CODE_NAMES

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"

ADVICE = {
    TRANSIENT: "Retry the whole transaction: abort it, start a new one and run every "
    "operation again.",
    UNKNOWN_COMMIT: "Retry the commit: it may or may not have been applied, and "
    "commitTransaction is safe to run again.",
    None: "Do not retry: the same operation will fail the same way; fix it or the data.",
}


@dataclass(frozen=True)
class ErrorInfo:
    """A failed command as the lane shows it: code, codeName, message and error labels."""

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

"""MongoDB error codes and the exception the command handlers raise."""

from __future__ import annotations

import logging
import traceback
from typing import Any

# Names from the server's base/error_codes.yml (see ../shared/docs/mongodb-transactions.md §9).
CODE_NAMES: dict[int, str] = {
    1: "InternalError",
    2: "BadValue",
    6: "HostUnreachable",
    7: "HostNotFound",
    8: "UnknownError",
    9: "FailedToParse",
    11: "UserNotFound",
    13: "Unauthorized",
    14: "TypeMismatch",
    15: "Overflow",
    18: "AuthenticationFailed",
    20: "IllegalOperation",
    22: "InvalidBSON",
    24: "LockTimeout",
    26: "NamespaceNotFound",
    27: "IndexNotFound",
    31: "RoleNotFound",
    40: "ConflictingUpdateOperators",
    43: "CursorNotFound",
    46: "LockBusy",
    48: "NamespaceExists",
    50: "MaxTimeMSExpired",
    52: "DollarPrefixedFieldName",
    59: "CommandNotFound",
    64: "WriteConcernTimeout",
    66: "ImmutableField",
    67: "CannotCreateIndex",
    68: "IndexAlreadyExists",
    72: "InvalidOptions",
    73: "InvalidNamespace",
    79: "UnknownReplWriteConcern",
    85: "IndexOptionsConflict",
    86: "IndexKeySpecsConflict",
    89: "NetworkTimeout",
    91: "ShutdownInProgress",
    96: "OperationFailed",
    100: "UnsatisfiableWriteConcern",
    112: "WriteConflict",
    115: "CommandNotSupported",
    117: "ConflictingOperationInProgress",
    125: "CommandFailed",
    134: "ReadConcernMajorityNotAvailableYet",
    139: "JSInterpreterFailure",
    166: "CommandNotSupportedOnView",
    168: "InvalidPipelineOperator",
    189: "PrimarySteppedDown",
    205: "ClusterTimeFailsRateLimiter",
    217: "IncompleteTransactionHistory",
    225: "TransactionTooOld",
    239: "SnapshotTooOld",
    246: "SnapshotUnavailable",
    251: "NoSuchTransaction",
    256: "TransactionCommitted",
    257: "TransactionTooLarge",
    262: "ExceededTimeLimit",
    263: "OperationNotSupportedInTransaction",
    267: "PreparedTransactionInProgress",
    290: "TransactionExceededLifetimeLimitSeconds",
    334: "MechanismUnavailable",
    347: "APIMismatchError",
    352: "UnsupportedOpQueryCommand",
    9001: "SocketException",
    10334: "BSONObjectTooLarge",
    10107: "NotWritablePrimary",
    11000: "DuplicateKey",
    11600: "InterruptedAtShutdown",
    11601: "Interrupted",
    11602: "InterruptedDueToReplStateChange",
    13435: "NotPrimaryNoSecondaryOk",
    13436: "NotPrimaryOrSecondary",
    50768: "NotARetryableWriteCommand",
    50790: "Location50790",
    50791: "Location50791",
}

# Codes in the server's RetriableError category (error_codes.yml); used for labels (§3.12).
RETRIABLE_CODES = frozenset(
    {6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 10058}
)
# Codes that are TransientTransactionError for any statement of a transaction (§3.12).
WRITE_CONFLICT_MSG = (
    "WriteConflict error: this operation conflicted with another operation. "
    "Please retry your operation or multi-document transaction."
)

TRANSIENT_CODES = frozenset({112, 24, 267, 239, 246, 250, 272, 343, 249})


def code_name(code: int) -> str:
    """The codeName MongoDB uses for `code` (or a Location name for unnamed codes)."""
    return CODE_NAMES.get(code, f"Location{code}")


class CommandError(Exception):
    """A command failure that becomes an `ok: 0` reply."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        labels: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        code_name_override: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.labels = labels
        self.extra = extra or {}
        self.code_name = code_name_override or code_name(code)

    def to_reply(self) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "ok": 0.0,
            "errmsg": self.message,
            "code": self.code,
            "codeName": self.code_name,
        }
        reply.update(self.extra)
        return reply


class CloseConnection(Exception):
    """Close the client's connection without replying (failCommand closeConnection)."""


class ProtocolError(Exception):
    """A malformed message. Without a code the connection that sent it is closed (mongod's
    ConnectionFatalMessageParseError: flags, checksum, too many sequences); with one it is
    answered with that error, as mongod answers other parse errors (invalid BSON)."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.more_to_come = False  # set once the flags are read: then nothing is answered


def bad_value(message: str) -> CommandError:
    return CommandError(2, message)


_log = logging.getLogger("mongotx_sandbox")
_REPORTED: set[str] = set()


def internal_error(command: str, exc: BaseException) -> CommandError:
    """A bug of ours, not a client's mistake: InternalError 1 with no Python text.

    Logged once per command name, with the exception's type and stack but never its
    message, which may quote the client's data."""
    if command not in _REPORTED:
        _REPORTED.add(command)
        stack = "".join(traceback.format_tb(exc.__traceback__))
        _log.error(
            "internal error in command %s (%s); please report it:\n%s",
            command,
            type(exc).__name__,
            stack,
        )
    return CommandError(1, f"An internal error occurred while running {command}")

"""Run MongoDB's server tests for transactions (`../shared/jstests`) against the sandbox.

Installs mongosh with npm into a cache folder the first time (as the harness's README
shows), then runs the harness: one fresh `mongotx-sandbox` per file. Exits non-zero when
a file that is not skipped fails, except the files below whose 2020 expectation MongoDB
8.0 no longer meets (each with its source; the sandbox follows 8.0 and its own tests check
8.0's answer); one of those passing is an error too, so the list stays true. The files that
prepare a transaction, which the harness skips, then run with --no-skip (PREPARE_FILES).
The jstests
are SSPL reference data read from `$MONGOTX_JSTESTS` (default `../shared/jstests`); when
they are absent, or npm is, it says so and skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSTESTS = Path(os.environ.get("MONGOTX_JSTESTS", ROOT.parent / "shared" / "jstests"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mongotx-jstests"
# The mongosh the selection was made to pass with; a newer one is a deliberate change.
MONGOSH_PACKAGE = "mongosh@2.12.0"


# File → why its 2020 expectation is not MongoDB 8.0's answer.
CHANGED_IN_80 = {
    "concurrent_drops_and_creates.js": (
        "expects 246 SnapshotUnavailable for a write to a collection created or dropped "
        "after the snapshot; 8.0 answers 112 WriteConflict 'Unable to write to collection "
        "... due to catalog changes' (src/mongo/db/shard_role.cpp, acquireCollectionsOrViews; "
        "tests/sandbox/test_catalog_snapshot.py)"
    ),
    "transaction_continuing_cmds_refuse_api_params.js": (
        "expects 4937700 for API parameters on a transaction's later statements (the 4.7 "
        "rule); 8.0 requires the first statement's parameters on every statement and answers "
        "347 APIMismatchError only when they differ (service_entry_point_common.cpp; drivers "
        "send them with every command: pymongo's pool add_server_api; "
        "tests/sandbox/test_txn_command_rules.py)"
    ),
}


# The harness's classify.py skips every file that prepares a transaction; the sandbox
# prepares (issue 15, item 3), so these run too, with --no-skip; prepare_conflict.js with
# the profiler and the server log (profiler.py, ramlog.py);
# timestamped_reads_wait_for_prepare_oplog_visibility.js with the fail point
# hangAfterReservingPrepareTimestamp, oplog holes (oplog_holes.py) and the log's verbosity
# (log_verbosity.py).
PREPARE_FILES = (
    "abort_prepared_transaction.js",
    "commit_and_abort_large_prepared_transactions.js",
    "commit_prepared_transaction.js",
    "commit_prepared_transaction_errors.js",
    "currentop_blocked_operations.js",
    "disallow_operations_on_prepared_transaction.js",
    "empty_prepare.js",
    "ensure_active_txn_for_prepare_transaction.js",
    "errors_on_committed_transaction.js",
    "new_transaction_waits_for_previous_txn_table_updates.js",
    "new_transactions_on_session_with_prepared_txn_block_behind_prepare.js",
    "no_writes_to_config_transactions_with_prepared_transaction.js",
    "prepare_conflict.js",
    "prepare_conflict_aggregation_behavior.js",
    "prepare_nonexistent_transaction.js",
    "prepare_prepared_transaction.js",
    "prepare_transaction_fails_on_temp_collections.js",
    "prepare_transaction_unique_index_conflict.js",
    "prepared_transactions_do_not_block_non_conflicting_ddl.js",
    "statement_ids_accepted.js",
    "timestamped_reads_wait_for_prepare_oplog_visibility.js",
)


def mongosh() -> Path | None:
    """The cached mongosh, installed with npm when missing; None without npm."""
    binary = CACHE / "mongosh" / "node_modules" / ".bin" / "mongosh"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        return None
    print(f"jstests: installing {MONGOSH_PACKAGE} into {binary.parents[2]}", flush=True)
    flags = ["--no-audit", "--no-fund", "--silent"]
    prefix = str(binary.parents[2])
    subprocess.run([npm, "install", "--prefix", prefix, *flags, MONGOSH_PACKAGE], check=True)
    return binary


def sandbox() -> str:
    """The `mongotx-sandbox` of this environment (beside this Python first)."""
    beside = Path(sys.executable).parent / "mongotx-sandbox"
    return str(beside) if beside.exists() else shutil.which("mongotx-sandbox") or ""


def main() -> int:
    if not (JSTESTS / "run.py").exists():
        print(f"jstests: skipped, {JSTESTS} not found (set MONGOTX_JSTESTS)")
        return 0
    shell = mongosh()
    if shell is None:
        print("jstests: skipped, npm not found (mongosh is installed with npm)")
        return 0
    server = sandbox()
    if not server:
        print("jstests: mongotx-sandbox not found; install the project first")
        return 1
    cmd = [sys.executable, str(JSTESTS / "run.py"), "--mongosh", str(shell)]
    cmd += ["--sandbox", server, "--jobs", "2", *sys.argv[1:]]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    print(run.stdout, end="", flush=True)
    output, status = run.stdout, run.returncode
    if "--only" not in sys.argv[1:] and "--no-skip" not in sys.argv[1:]:
        # The prepare files the first run skipped, each must pass now.
        print("jstests: the files that prepare a transaction (skipped above), with --no-skip")
        more = [*cmd, "--no-skip", "--only", *PREPARE_FILES]
        run = subprocess.run(more, stdout=subprocess.PIPE, text=True)
        print(run.stdout, end="", flush=True)
        output += run.stdout
        status = status or run.returncode
    return judge(output, status)


def judge(output: str, returncode: int) -> int:
    """0 when every failing file is one 8.0 changed and each of those still fails."""
    results: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith(("PASS ", "FAIL ", "SKIP ")):
            result, name = line.split(" ", 2)[:2]
            if results.get(name) in (None, "SKIP"):  # a later run of a skipped file counts
                results[name] = result
    if not results:
        print(f"jstests: the harness reported no file (exit status {returncode})")
        return 1
    unexpected = sorted(f for f, r in results.items() if r == "FAIL" and f not in CHANGED_IN_80)
    stale = sorted(f for f in CHANGED_IN_80 if results.get(f) == "PASS")
    for name in sorted(f for f in CHANGED_IN_80 if results.get(f) == "FAIL"):
        print(f"jstests: {name} fails as expected: {CHANGED_IN_80[name]}")
    for name in stale:
        print(f"jstests: {name} passes although listed as changed in 8.0: update CHANGED_IN_80")
    if unexpected:
        print(f"jstests: {len(unexpected)} failed: {', '.join(unexpected)}")
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())

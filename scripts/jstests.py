"""Run MongoDB's server tests for transactions (`../shared/jstests`) against the sandbox.

Installs mongosh with npm into a cache folder the first time (as the harness's README
shows), then runs the harness: one fresh `mongotx-sandbox` per file. Exits non-zero when
a file that is not skipped fails. The jstests are SSPL reference data read from
`$MONGOTX_JSTESTS` (default `../shared/jstests`); when they are absent, or npm is, it says
so and skips.
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
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())

"""Driving the served workbench in headless Chromium (Debian's, /usr/bin/chromium) with
Playwright, and reading what its terminal shows (used by test_browser.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# The flags that work on this kind of machine (no network but the loopback): without the
# background-networking ones Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# textual-serve's page keeps its xterm.js Terminal in a closure (`this.terminal = new
# Terminal(...)`). A setter on Object.prototype sees that assignment: the test keeps the
# Terminal and reads its screen through xterm's public buffer API, line by line.
CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && value.options && !window.mongotxTerminal) {
      window.mongotxTerminal = value;
    }
  },
});
window.mongotxScreen = () => {
  const term = window.mongotxTerminal;
  if (!term) return "";
  const buffer = term.buffer.active;
  const lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
};
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"mongotx-tui serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)  # polling a real condition (the port), with a deadline
    raise TimeoutError(f"mongotx-tui serve did not listen on {port}")


@contextmanager
def served(*args: str) -> Iterator[str]:
    """`mongotx-tui serve --port P` as a user runs it; yields its URL; stops it (and the
    tabs' app processes, which are its children) at the end."""
    port = free_port()
    command = [sys.executable, "-m", "mongotx_tui", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(proc.pid, 15)  # its own session: the server and the tabs it started
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def screen(page: Any) -> str:
    return page.evaluate("window.mongotxScreen()")


def wait_text(page: Any, text: str, timeout_s: float = 60) -> str:
    """Wait until the terminal shows `text`; returns the screen."""
    page.wait_for_function(
        "(want) => window.mongotxScreen && window.mongotxScreen().includes(want)",
        arg=text,
        timeout=timeout_s * 1000,
    )
    return screen(page)


def open_tab(context: Any, url: str) -> Any:
    page = context.new_page()
    page.add_init_script(CAPTURE_TERMINAL)
    page.goto(url)
    wait_text(page, "Lane A")
    page.click("#terminal")  # xterm's textarea takes the keys
    return page


def press(page: Any, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)

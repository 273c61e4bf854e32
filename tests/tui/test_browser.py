"""`mongotx-tui serve` in a real headless Chromium (issue 14 item 4): the page loads, keys
reach the app, the write-conflict demo runs to its WriteConflict, two tabs have
sandboxes of their own, a tab refuses a path outside its folder and a saved file arrives
as a download. Debian's chromium driven by Playwright (no browser download);
.ci/run installs chromium, so in CI this test never skips."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, open_tab, press, screen, served, wait_text


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent (Debian's chromium package; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI guarantees it: missing there is a broken CI, not a skip
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1200, "height": 760})
        yield context
        chromium.close()


def sandbox_port(text: str) -> str:
    found = re.search(r"mongodb://127\.0\.0\.1:(\d+)/", text)
    assert found, text
    return found.group(1)


def update_in_txn(page, lane: str) -> None:
    """t, a (the editor's example: alice's balance -10), F10, s: the demo's keys."""
    press(page, "t", "a")
    wait_text(page, f"New operation in lane {lane}")
    press(page, "F10")
    page.wait_for_function(
        "() => !window.mongotxScreen().includes('New operation in lane')", timeout=60_000
    )
    press(page, "s")


def test_served_tabs_run_the_write_conflict_demo_each_on_its_own_sandbox(browser):
    with served() as url:
        one = open_tab(browser, url)
        first = wait_text(one, "sandbox (in this process)")
        assert "Lane B" in first
        # keys reach the app: lane A starts its transaction and updates alice
        update_in_txn(one, "A")
        wait_text(one, "matched 1, modified 1")
        press(one, "]")
        update_in_txn(one, "B")
        # Each waited for: the terminal receives the screen's updates in pieces, so the
        # lane's title can arrive after its error block.
        wait_text(one, "112 WriteConflict")
        wait_text(one, "Lane B · aborted by server")
        wait_text(one, "lane A's open transaction (txn 1) wrote _id 'alice'")

        # a second tab: another app process on another sandbox. Tab one's lane A still
        # holds alice in its open transaction; here the same update does not conflict.
        two = open_tab(browser, url)
        other = wait_text(two, "sandbox (in this process)")
        assert sandbox_port(other) != sandbox_port(screen(one))
        update_in_txn(two, "A")
        text = wait_text(two, "matched 1, modified 1")
        assert "WriteConflict" not in text
        press(two, "c")
        wait_text(two, "'alice'  {name: 'Alice', balance: 90}")  # its committed panel
        # tab one's sandbox never saw that commit: A's transaction is still open there
        assert "Lane A · in progress" in screen(one)
        assert "'alice'  {name: 'Alice', balance: 100}" in screen(one)


def test_a_served_tab_refuses_outside_paths_and_sends_saved_files_to_the_browser(browser):
    with served() as url:
        page = open_tab(browser, url)
        press(page, "l")
        wait_text(page, "Built-in scenarios")  # the list read and focused
        press(page, "Tab")  # from the list to the path field
        page.keyboard.type("/etc/passwd")
        wait_text(page, "/etc/passwd")  # in the field: Enter submits it, not the list
        press(page, "Enter")
        wait_text(page, "Refused: this browser tab can read files only")
        press(page, "Escape")
        page.wait_for_function(
            "() => !window.mongotxScreen().includes('Load a scenario')", timeout=60_000
        )
        update_in_txn(page, "A")
        wait_text(page, "matched 1, modified 1")
        press(page, "w")
        wait_text(page, "Save the workbench as a scenario")
        with page.expect_download(timeout=60_000) as download:
            press(page, "Enter")
        assert download.value.suggested_filename.startswith("workbench-")
        assert "sessions:" in Path(download.value.path()).read_text(encoding="utf-8")

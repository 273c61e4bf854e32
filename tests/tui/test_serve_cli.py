"""`mongotx-tui serve`'s command line: the bind address, what exposing it means, bad
arguments (issue 14 item 4). The browser itself: test_browser.py."""

from __future__ import annotations

import socket
import subprocess
import sys

from mongotx_tui import serve


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mongotx_tui", "serve", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_default_address_is_this_machine_only():
    assert serve._parser().parse_args([]).host == "127.0.0.1"
    text = " ".join(serve.exposure("127.0.0.1", 8000).split())
    assert text.startswith("Only this machine can open it.")


def test_exposing_it_says_plainly_what_anyone_on_the_network_gets():
    text = " ".join(serve.exposure("0.0.0.0", 8000).split())
    assert "EXPOSED: anyone who can reach port 8000" in text
    assert "There is no login and no TLS" in text
    assert "(no shell)" in text
    assert "dialogs (l, w, p, D) read and write only in that folder" in text
    assert "F2 offers only the tab's own sandbox" in text
    assert "The tabs run as your user" in text


def test_allow_connect_is_said_and_reaches_every_tab():
    text = " ".join(serve.exposure("0.0.0.0", 8000, allow_connect=True).split())
    assert "--allow-connect is on: F2 connects a tab's workbench to any MongoDB server" in text
    assert "F2 offers only" not in text
    assert serve._parser().parse_args(["--allow-connect"]).allow_connect
    assert serve.tab_command(allow_connect=True).endswith("--tab --allow-connect")
    assert "--allow-connect" not in serve.tab_command()


def test_every_address_needs_the_address_browsers_use():
    done = run("--host", "0.0.0.0", "--port", "8000")
    assert done.returncode == 2
    assert "add --public-url http://ADDRESS:8000" in done.stderr


def test_each_tab_runs_the_app_of_this_python():
    command = serve.tab_command(present=True)
    assert command.startswith(sys.executable)
    assert command.endswith("-m mongotx_tui.serve --tab --present")


def test_a_port_in_use_is_a_message_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run("--port", str(port))
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_port_is_refused():
    done = run("--port", "70000")
    assert done.returncode == 2
    assert "not a port number (1-65535): 70000" in done.stderr

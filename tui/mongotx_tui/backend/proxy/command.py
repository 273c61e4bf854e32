"""`mongotx-tui proxy` without the TUI: start the proxy, print a line per statement until
ctrl+c (or SIGTERM), then write the capture if asked. Messages, never tracebacks."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..connection import BadURI, mask_uri, scrub
from .collect import Collector
from .printer import LinePrinter
from .relay import ProxyHandle, start_proxy

PLAIN_TCP = (
    "WARNING: the application's side of the proxy is plain TCP (no TLS), whatever the "
    "upstream uses: everything it sends, including its authentication conversation, "
    "crosses {where} unencrypted."
)


def _banner(handle: ProxyHandle, uri: str, listen_host: str) -> list[str]:
    local = listen_host in ("127.0.0.1", "::1", "localhost")
    where = "this machine's loopback" if local else f"the network on {listen_host}"
    lines = [
        f"proxy: listening on {handle.address}, forwarding to {mask_uri(uri)}",
        PLAIN_TCP.format(where=where),
        f"proxy: connect the application with {handle.app_uri()}",
    ]
    if handle.upstream.set_name:
        lines.append(f"proxy: or, to one member only, {handle.app_uri(direct=True)}")
    if handle.upstream.tls is not None:
        lines.append("proxy: the upstream is reached over TLS, with the URI's TLS options")
    return lines


def _save(
    path: str, uri: str, collector: Collector, fetch: bool, say: Callable[[str], None]
) -> int:
    from ...scenario.capture import capture_data
    from ...scenario.save import dump, write_atomic

    records = collector.records()
    documents = None
    if fetch:
        from .fetch import fetch_setup

        try:
            documents, skipped = fetch_setup(uri, records)
        except Exception as exc:  # pymongo's errors: the message, without the password
            say(f"cannot fetch the setup from the upstream: {scrub(str(exc), uri)}")
            return 2
        if skipped:
            say(f"{skipped} fetched documents had values plain YAML cannot hold; left out")
    name = Path(path).stem or "capture"
    data = capture_data(records, name=name, setup_documents=documents, now=time.time())
    try:
        written = write_atomic(Path(path), dump(data))
    except OSError as exc:
        say(f"cannot write the capture {path}: {exc.strerror or exc}")
        return 2
    say(f"capture: {len(data['steps'])} steps of {len(data['sessions'])} sessions in {written}")
    if collector.dropped:
        say(f"capture: the oldest {collector.dropped} commands were dropped (limit reached)")
    return 0


def run_proxy(
    uri: str,
    listen: tuple[str, int],
    record: str | None,
    fetch: bool,
    say: Callable[[str], None],
) -> int:
    if fetch and not record:
        say("--fetch-setup goes with --record FILE")
        return 2
    if record:
        parent = Path(record).expanduser().resolve().parent
        if not parent.is_dir():
            say(f"cannot write the capture {record}: no folder {parent}")
            return 2
    collector = Collector()  # kept only with --record: records held cost memory and GC time
    printer = LinePrinter(print)
    try:
        handle = start_proxy(uri, listen, [printer, *([collector] if record else [])])
    except BadURI as exc:
        say(f"bad URI {mask_uri(uri)}: {exc}")
        return 2
    except OSError as exc:
        say(f"cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}")
        return 2
    for line in _banner(handle, uri, listen[0]):
        print(line, file=sys.stderr if line.startswith("WARNING") else sys.stdout, flush=True)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    # ctrl+c stops it even when started in the background of a script, where the shell
    # leaves SIGINT ignored for its children.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while not done.wait(0.1):
            if printer.drain():
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        handle.stop()
        printer.drain()
    print("proxy: stopped", flush=True)
    if record:
        return _save(record, uri, collector, fetch, say)
    return 0

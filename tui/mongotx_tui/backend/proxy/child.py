"""The forwarding process: `python -m mongotx_tui.backend.proxy.child`, started by
relay.py. It forwards (listener.Proxy, pumps.py, forward.py) and ships a copy of every
frame to its parent (shipper.py), which decodes and observes: the forwarding threads then
share this interpreter's lock with nothing but the shipping thread.

stdin: one JSON line {"uri", "host", "port"} (the URI, with its password, never goes on
the command line, where `ps` shows it), then commands: `flush N` (ship FLUSH N after
everything queued so far), `stop`. `stop` or the end of stdin (the parent is gone) stops
the proxy, ships what is queued and ends the process. stdout carries ship.py's messages
and nothing else; stray output goes to stderr, which the parent discards.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from ..connection import BadURI
from . import ship
from .listener import Proxy
from .shipper import ShipFeed, Shipped
from .threaded import ThreadedProxy, start_threaded
from .upstream import parse_upstream

NOT_STARTED = "the proxy's forwarding process could not start"


def _start(out: int, config: dict[str, Any]) -> tuple[ThreadedProxy, ShipFeed] | None:
    """The running proxy and its feed, READY sent; or None, ERROR sent."""
    try:
        upstream = parse_upstream(str(config["uri"]))
        listen = (str(config["host"]), int(config["port"]))
        proxy = Proxy(upstream, listen, Shipped())
        feed = ShipFeed(out, lambda: dict(proxy.members))
        proxy.feed = feed
        proxy.on_member = feed.member
        running = start_threaded(proxy)
    except BadURI as exc:  # its message never holds the password (upstream.parse_upstream)
        ship.write(out, (ship.ERROR, "BadURI", 0, str(exc)))
        return None
    except OSError as exc:
        ship.write(out, (ship.ERROR, "OSError", exc.errno or 0, exc.strerror or NOT_STARTED))
        return None
    except Exception:  # no Python text reaches the parent
        ship.write(out, (ship.ERROR, "OSError", 0, NOT_STARTED))
        return None
    ship.write(out, (ship.READY, proxy.address, dict(proxy.members)))
    feed.begin()
    return running, feed


def main() -> int:
    # ctrl+c in the terminal reaches the whole process group: the parent decides when the
    # forwarding stops (the headless command stops it after ctrl+c, from stdin).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.dup(1)
    os.dup2(2, 1)  # print() or a library's output can never corrupt the messages
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer
    try:
        config = json.loads(stdin.readline() or b"{}")
    except ValueError:
        config = {}
    if not isinstance(config, dict) or "uri" not in config:
        ship.write(out, (ship.ERROR, "OSError", 0, NOT_STARTED))
        return 2
    started = _start(out, config)
    del config  # the URI is not kept longer than needed
    if started is None:
        return 2
    running, feed = started
    for line in stdin:
        words = line.split()
        if words[:1] == [b"flush"] and len(words) == 2 and words[1].isdigit():
            feed.ship_flush(int(words[1]))
        elif words[:1] == [b"stop"]:
            break
    running.stop()  # closes the connections, ships the rest
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # forwarding threads may still sit in recv: do not wait for them

"""`mongotx-sandbox`: serve a sandbox replica set until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any


def port_number(text: str) -> int:
    """--port: a whole number from 0 to 65535 (argparse reports anything else)."""
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def host_name(text: str) -> str:
    """--host: an IP address or a host name (letters, digits, '-' and '.')."""
    import ipaddress
    import re

    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    label = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
    if len(text) <= 253 and re.fullmatch(rf"{label}(\.{label})*\.?", text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not an IP address or a host name")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mongotx-sandbox",
        description="An in-process server that behaves like a one-member MongoDB replica set.",
    )
    parser.add_argument(
        "--host",
        type=host_name,
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port", type=port_number, default=27017, help="port, 0-65535 (0 picks a free one)"
    )
    parser.add_argument("--replset", default="rs0", help="replica set name (default rs0)")
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="behave as a standalone server (no replica set: no transactions)",
    )
    parser.add_argument(
        "--no-test-commands",
        action="store_true",
        help="answer test-only commands (configureFailPoint) as a mongod started without "
        "enableTestCommands does: 59 CommandNotFound",
    )
    parser.add_argument(
        "--sharded",
        action="store_true",
        help="run a sharded cluster: a mongos router (on --port) in front of --shards shards, "
        "each a one-member replica set on a free port; prints the router's URI",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=2,
        choices=range(1, 9),
        metavar="N",
        help="with --sharded: how many shards (1-8, default 2)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log connections and errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    from .server import SandboxServer

    if args.sharded and args.standalone:
        parser.error("--sharded and --standalone cannot be used together")

    async def serve() -> None:
        server: Any
        if args.sharded:
            from .sharding.cluster import ShardedSandbox

            server = ShardedSandbox(args.host, args.port, args.shards)
        else:
            server = SandboxServer(args.host, args.port, None if args.standalone else args.replset)
        if args.no_test_commands:
            for state in server.states() if args.sharded else [server.state]:
                state.parameters["enableTestCommands"] = False
        try:
            uri = await server.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print(
                f"mongotx-sandbox: cannot listen on {args.host}:{args.port}: {reason}",
                file=sys.stderr,
            )
            raise SystemExit(1) from None
        print(uri, flush=True)
        if server.listens_everywhere:
            print(
                f"mongotx-sandbox: warning: listening on every interface ({args.host} port "
                f"{server.port}): any machine that can reach this one can read and change the "
                f"sandbox's data, which has no authentication. Others reach it as "
                f"{server.state.host}. Use --host 127.0.0.1 to keep it to this machine.",
                file=sys.stderr,
                flush=True,
            )
        try:
            await server.serve_forever()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

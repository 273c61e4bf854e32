"""`mongotx-sandbox`: serve a sandbox replica set until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys


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


def user_spec(text: str) -> tuple[str, str]:
    """--user name:password (the name has no ':'; the password may)."""
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        # Never echo the text: it holds a password.
        raise argparse.ArgumentTypeError("expected name:password (both non-empty)")
    return name, password


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
        "--members",
        type=int,
        default=1,
        help="replica set members, each on its own port (the next ports after --port)",
    )
    parser.add_argument(
        "--election-timeout-ms",
        type=int,
        default=10_000,
        help="electionTimeoutMillis of a multi-member set (default 10000)",
    )
    parser.add_argument(
        "--no-test-commands",
        action="store_true",
        help="answer test-only commands (configureFailPoint) as a mongod started without "
        "enableTestCommands does: 59 CommandNotFound",
    )
    parser.add_argument(
        "--auth",
        action="store_true",
        help="enforce access control: users log in with SCRAM-SHA-256 or SCRAM-SHA-1; with "
        "no user yet, a client on this machine may create the first (localhost exception)",
    )
    parser.add_argument(
        "--user",
        type=user_spec,
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a root user of the admin database at start (repeatable; implies --auth)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="accept TLS connections only (needs --tls-cert-key-file; the sandbox makes no "
        "certificate)",
    )
    parser.add_argument(
        "--tls-cert-key-file",
        metavar="PEM",
        help="the server's certificate and private key, in one PEM file",
    )
    parser.add_argument(
        "--tls-ca-file",
        metavar="PEM",
        help="the CA that signed the server's certificate: the printed URI names it "
        "(tlsCAFile), and a client certificate, if one is presented, must be signed by it",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log connections and errors")
    args = parser.parse_args(argv)
    if args.members < 1 or (args.members > 1 and args.standalone):
        parser.error("--members: 1, or more for a replica set (not with --standalone)")
    if args.tls and not args.tls_cert_key_file:
        parser.error("--tls needs --tls-cert-key-file")
    ssl_context = None
    if args.tls:
        from .tls import TlsSetupError, server_context

        try:
            ssl_context = server_context(args.tls_cert_key_file, args.tls_ca_file)
        except TlsSetupError as exc:
            parser.error(str(exc))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    from .server import SandboxServer

    async def serve() -> None:
        server = SandboxServer(
            args.host,
            args.port,
            None if args.standalone else args.replset,
            members=args.members,
            election_timeout_ms=args.election_timeout_ms,
        )
        if args.no_test_commands:
            server.state.parameters["enableTestCommands"] = False
        if args.auth or args.user:
            from .auth import enforce

            server.state.auth = enforce(args.user)
        server.ssl_context = ssl_context
        try:
            uri = await server.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print(
                f"mongotx-sandbox: cannot listen on {args.host}:{args.port}: {reason}",
                file=sys.stderr,
            )
            raise SystemExit(1) from None
        if ssl_context is not None and args.tls_ca_file:
            from urllib.parse import quote

            uri += f"&tlsCAFile={quote(args.tls_ca_file, safe='/')}"
        print(uri, flush=True)
        for name, _password in args.user:
            # The password stays out of every output: the user knows it.
            print(f"mongotx-sandbox: user {name} (root, admin database)", file=sys.stderr)
        if server.listens_everywhere:
            print(
                f"mongotx-sandbox: warning: listening on every interface ({args.host} port "
                f"{server.port}): any machine that can reach this one can read and change the "
                f"sandbox's data{'' if args.auth or args.user else ', which has no authentication'}. Others reach it as "
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

"""Where the proxy connects: the upstream URI read by pymongo's own parser (SRV resolved
the way the driver resolves it), and a TLS context from its TLS options.

The proxy does not authenticate: the application's own driver does, through it, so the
URI's user name and password are never used here (and never printed: `mask_uri`).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from ..connection import BadURI, scrub

DEFAULT_PORT = 27017


@dataclass(frozen=True)
class Upstream:
    seeds: tuple[tuple[str, int], ...]  # host, port: the first is where the proxy's port goes
    tls: ssl.SSLContext | None
    set_name: str | None
    direct: bool

    @property
    def seed(self) -> str:
        host, port = self.seeds[0]
        return f"{host}:{port}"

    def server_hostname(self, host: str) -> str | None:
        return host if self.tls is not None else None


def _tls_context(opts: dict[str, Any]) -> ssl.SSLContext:
    """The TLS options of the URI specification (tlsCAFile, tlsCertificateKeyFile,
    tlsAllowInvalidCertificates, tlsAllowInvalidHostnames, tlsInsecure) on a client
    context; the system's CAs when no file is given."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=opts.get("tlscafile"))
    cert = opts.get("tlscertificatekeyfile")
    if cert:
        ctx.load_cert_chain(cert, password=opts.get("tlscertificatekeyfilepassword"))
    insecure = bool(opts.get("tlsinsecure"))
    if insecure or opts.get("tlsallowinvalidhostnames"):
        ctx.check_hostname = False
    if insecure or opts.get("tlsallowinvalidcertificates"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def parse_upstream(uri: str) -> Upstream:
    """The upstream of a URI; BadURI (a message without the password) if it is not one."""
    from pymongo import uri_parser
    from pymongo.errors import ConfigurationError, InvalidURI

    if not uri.lower().startswith(("mongodb://", "mongodb+srv://")):
        raise BadURI("A MongoDB URI starts with mongodb:// or mongodb+srv://")
    try:
        parsed = uri_parser.parse_uri(uri, validate=True, warn=False, connect_timeout=5)
    except (InvalidURI, ConfigurationError, ValueError, OSError) as exc:
        raise BadURI(scrub(str(exc), uri)) from None
    opts = {k.lower(): v for k, v in parsed["options"].items()}
    # mongodb+srv:// turns TLS on unless the URI says otherwise (the Initial DNS Seedlist
    # Discovery specification); pymongo's parser leaves that default to the client.
    tls_on = opts.get("tls", opts.get("ssl", uri.lower().startswith("mongodb+srv://")))
    try:
        tls = _tls_context(opts) if tls_on else None
    except (OSError, ssl.SSLError) as exc:
        raise BadURI(f"cannot use the URI's TLS files: {scrub(str(exc), uri)}") from None
    seeds = tuple((h, int(p or DEFAULT_PORT)) for h, p in parsed["nodelist"])
    return Upstream(seeds, tls, opts.get("replicaset"), bool(opts.get("directconnection")))

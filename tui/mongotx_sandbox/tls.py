"""--tls: the server's TLS context from a PEM certificate-and-key file (and a CA file to
check the certificates clients present), as mongod's net.tls options take them
[manual: reference/configuration-options, net.tls.certificateKeyFile and net.tls.CAFile;
tutorial/configure-ssl]. The sandbox makes no certificate: tests make theirs with trustme."""

from __future__ import annotations

import ssl


class TlsSetupError(Exception):
    """A certificate file that cannot be used; the message names the file, not its text."""


def server_context(cert_key_file: str, ca_file: str | None = None) -> ssl.SSLContext:
    """TLS 1.2 or newer. With `ca_file`, a client that presents a certificate must present
    one that CA signed; a client may also present none, as with mongod's
    net.tls.allowConnectionsWithoutCertificates."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_key_file)
    except (OSError, ssl.SSLError):
        raise TlsSetupError(
            f"cannot use {cert_key_file} as the certificate and key (a PEM file holding both)"
        ) from None
    if ca_file is not None:
        try:
            context.load_verify_locations(ca_file)
        except (OSError, ssl.SSLError):
            raise TlsSetupError(f"cannot use {ca_file} as the CA file (PEM)") from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context

"""`mongotx-tui proxy`: a wire proxy between an application and its deployment, which
forwards every frame as it came and tells observers what passed (model.proxy_records).

For a UI (the live view) or any other caller:

    from mongotx_tui.backend.proxy import start_proxy
    handle = start_proxy("mongodb://db.example:27017/?replicaSet=rs0", ("127.0.0.1", 27018))
    handle.observers.append(my_observer)  # a ProxyObserver, called on the proxy's thread
    print(handle.app_uri())               # what the application connects to
    handle.stop()

Modules: `frames` (wire layouts), `handshake` (the two rewrites: no compression offered,
hello replies naming proxy ports), `upstream` (the URI, TLS, SRV), `forward` (one client
connection and its upstream connection), `listener` (a port per upstream member),
`observe` (records, redaction of credentials, retries), `printer` (the headless line per
statement), `collect` (what `--record` keeps).

The forwarding runs in a child process (`child`: `threaded`, the proxy on its own loop
and thread; `shipper`, copies of the frames sent to the parent), so that decoding and a
UI never hold the forwarding threads' interpreter lock; `relay` (start_proxy and its
handle) and `receive` (records and observers from what the child ships) are the parent's,
`ship` the messages between them.

The local side is plain TCP, whatever the upstream's TLS: it listens on 127.0.0.1 unless
told otherwise.
"""

from .relay import ProxyHandle, start_proxy
from .upstream import Upstream, parse_upstream

__all__ = ["ProxyHandle", "Upstream", "parse_upstream", "start_proxy"]

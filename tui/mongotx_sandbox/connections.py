"""What the server knows about one client connection: its id, its peer, and who the client
said it was in its first hello."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Connection:
    """One client socket, from accept to close (ids count up from 1, as mongod's do)."""

    id: int
    peer: str  # host:port of the client (whatsmyuri)
    app_name: str | None = None  # client.application.name: failCommand's appName filter
    client_metadata: dict[str, Any] | None = None
    auth: Any = None  # who is logged in here (auth.ConnAuth), made by the first saslStart

    def remember_client(self, client: Any) -> None:
        """Keep the `client` document of the first hello that sends one; drivers send it only
        in the handshake (handshake spec, "client" field), so a later one changes nothing."""
        if not isinstance(client, dict) or self.client_metadata is not None:
            return
        self.client_metadata = client
        app = client.get("application")
        if isinstance(app, dict) and isinstance(app.get("name"), str):
            self.app_name = app["name"]

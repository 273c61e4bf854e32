"""Issue 13 item 2: `maxStalenessSeconds` as documented, with real pymongo's server
selection. The driver estimates a secondary's staleness from the `lastWrite.lastWriteDate`
of each member's hello reply, with a floor of 90 s [spec: mongodb/specifications
source/max-staleness/max-staleness.md, "Estimating staleness" and "smallestMaxStalenessSeconds";
source/server-selection/server-selection.md, maxStalenessSeconds]. To make a paused
secondary's lastWriteDate lag by more than that without waiting, the set's clock jumps
ahead (`sandboxMember` action `advanceClock`), as a host clock can."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.read_preferences import Secondary, SecondaryPreferred

from .replset_helpers import ReplSet, rset, wait_for

__all__ = ["rset"]

JUMP_SECS = 100  # past the 90 s floor, well below the 200 s bound read below


@pytest.fixture
def client(rset: ReplSet) -> Iterator[MongoClient]:
    # The smallest heartbeat pymongo allows: its hello replies (and their lastWriteDate)
    # come every half second, so maxStalenessSeconds' floor stays 90 s.
    c: MongoClient = MongoClient(rset.uri, heartbeatFrequencyMS=500, serverSelectionTimeoutMS=30000)
    yield c
    c.close()


def _address(host: str) -> tuple[str, int]:
    name, port = host.rsplit(":", 1)
    return name, int(port)


def _read(client: MongoClient, pref: Secondary | SecondaryPreferred) -> tuple[dict, tuple]:
    """The document and the address of the member that answered."""
    cursor = client.test.get_collection("c", read_preference=pref).find({"_id": 1})
    docs = list(cursor)
    assert cursor.address is not None
    return docs[0], cursor.address


def _lagging_member_1(rset: ReplSet, client: MongoClient) -> None:
    """Member 1 paused at v 1; the clock jumps; v 2 is written and known to the driver."""
    client.test.c.insert_one({"_id": 1, "v": 1})
    wait_for(lambda: rset.rs.members[1].applied >= rset.rs.last_write(), "member 1 applied v 1")
    rset.on_loop(rset.rs.pause, 1)
    reply = client.admin.command({"sandboxMember": 0, "action": "advanceClock", "secs": JUMP_SECS})
    assert reply["ok"] == 1
    client.test.c.update_one({"_id": 1}, {"$set": {"v": 2}})  # w majority: members 0 and 2
    primary, fresh = _address(rset.hosts[0]), _address(rset.hosts[2])
    written = rset.rs.members[0].applied_wall

    def driver_knows() -> bool:
        sds = client.topology_description.server_descriptions()
        return all(
            sds[a].last_write_date is not None and sds[a].last_write_date >= written - 0.001
            for a in (primary, fresh)
        )

    wait_for(driver_knows, "the driver to see the new lastWriteDate of members 0 and 2")


def test_a_secondary_read_avoids_a_member_staler_than_max_staleness(
    rset: ReplSet, client: MongoClient
) -> None:
    _lagging_member_1(rset, client)
    fresh = _address(rset.hosts[2])
    for _ in range(20):  # the driver picks at random among the eligible secondaries
        assert _read(client, Secondary(max_staleness=90)) == ({"_id": 1, "v": 2}, fresh)


def test_a_read_whose_bound_the_lagging_member_is_within_may_use_it(
    rset: ReplSet, client: MongoClient
) -> None:
    _lagging_member_1(rset, client)
    rset.on_loop(rset.rs.kill, 2)  # the lagging member is now the only secondary
    gone = _address(rset.hosts[2])
    wait_for(
        lambda: (
            client.topology_description.server_descriptions()[gone].server_type_name == "Unknown"
        ),
        "the driver to see member 2 down",
    )
    stale, primary = _address(rset.hosts[1]), _address(rset.hosts[0])
    assert _read(client, Secondary(max_staleness=200)) == ({"_id": 1, "v": 1}, stale)
    # Past the bound no secondary is eligible: secondaryPreferred falls back to the primary.
    assert _read(client, SecondaryPreferred(max_staleness=90)) == ({"_id": 1, "v": 2}, primary)

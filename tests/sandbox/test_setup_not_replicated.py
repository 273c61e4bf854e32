"""A scenario's setup on 3 members whose secondaries are paused: its majority writes wait
at most their wtimeout, then the load stops with a sentence saying why (it used to wait
without a word). Real pymongo (async) against the 3-member sandbox over sockets."""

from __future__ import annotations

import pytest
from pymongo import AsyncMongoClient

from mongotx_tui.backend.setup import SetupNotReplicated, prepare
from mongotx_tui.scenario.loader import parse_scenario

from .replset_helpers import ReplSet, rset

__all__ = ["rset"]

SCENARIO = """
name: paused
title: Setup with paused secondaries
description: The setup needs a majority.
verdict: Nothing to judge.
setup:
  database: bank
  collection: accounts
  documents:
    - {_id: alice, balance: 100}
sessions: [A]
steps:
  - {session: A, action: find, filter: {}}
"""


async def test_setup_stops_with_a_sentence_when_no_majority_acknowledges(rset: ReplSet) -> None:
    client: AsyncMongoClient = AsyncMongoClient(rset.uri)
    try:
        for member in (1, 2):
            await client.admin.command({"sandboxMember": member, "action": "pause"})
        with pytest.raises(SetupNotReplicated) as info:
            await prepare(client, parse_scenario(SCENARIO), own=True, wtimeout_ms=300)
        assert "not acknowledged by a majority of the members within 0.3 s" in str(info.value)
        assert "Resume them (members panel, M)" in str(info.value)
        for member in (1, 2):
            await client.admin.command({"sandboxMember": member, "action": "resume"})
        await prepare(client, parse_scenario(SCENARIO), own=True, wtimeout_ms=10_000)
        assert await client.bank.accounts.find_one() == {"_id": "alice", "balance": 100}
    finally:
        await client.close()

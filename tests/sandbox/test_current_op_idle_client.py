"""An idle transaction in $currentOp names the client of its last statement (issue 11,
item 3: the server view shows who holds a transaction).

mongod's reportStashedState [srv:db/transaction/transaction_participant.cpp
Observer::reportStashedState] writes `client`, `connectionId`, `appName` and
`clientMetadata` from the single transaction stats' lastClientInfo, which every statement's
stash updates; the sandbox listed an idle transaction without them.
"""

from __future__ import annotations

from pymongo import MongoClient


def test_an_idle_transaction_names_its_last_client(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    app = MongoClient(uri, appname="shop-app", maxPoolSize=1, serverSelectionTimeoutMS=5000)
    try:
        you = app.admin.command("whatsmyuri")["you"]
        s = app.start_session()
        s.start_transaction()
        app[coll.database.name][coll.name].insert_one({"_id": 1}, session=s)
        lsid = s.session_id["id"]
        found = list(
            client.admin.aggregate(
                [{"$currentOp": {"idleSessions": True}}, {"$match": {"lsid.id": lsid}}]
            )
        )
        assert len(found) == 1
        idle = found[0]
        assert idle["type"] == "idleSession"
        assert idle["appName"] == "shop-app"
        assert idle["client"] == you
        assert isinstance(idle["connectionId"], int) and idle["connectionId"] > 0
        assert idle["clientMetadata"]["application"] == {"name": "shop-app"}
        assert idle["transaction"]["parameters"]["txnNumber"] == 1
        s.abort_transaction()
        s.end_session()
    finally:
        app.close()

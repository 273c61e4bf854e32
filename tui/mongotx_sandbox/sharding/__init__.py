"""The sandbox as a sharded cluster (issue 15): a mongos-like router in front of N shards.

`cluster` starts the shards and the router; `router` is the router's command path; `catalog`
the config server's metadata; `targeting` picks shards; `merge` combines their replies;
`txn_router` carries a session's transaction to its participants; `shard_client` talks to a
shard over the wire as a mongos does.
"""

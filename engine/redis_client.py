"""One way to reach the engine's Redis: a single server or a Redis Cluster
(docs/protocol.md "Keys").

`connect(url)` asks the server at `url` whether it runs in cluster mode (`INFO cluster`)
and returns a `redis.RedisCluster` then, a plain `redis.Redis` otherwise, so the same
`--redis-url` / `ENGINE_REDIS_URL` works with both. Every key of shard N carries the
`{N}` hash tag: one shard's keys live in one slot, so its EVAL and MULTI/EXEC run on one
node of the cluster.
"""

from __future__ import annotations

import redis
from redis.cluster import RedisCluster


def is_cluster(url: str) -> bool:
    probe = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        return str(probe.info("cluster").get("cluster_enabled", 0)) == "1"
    finally:
        probe.close()


def one_node(conn: redis.Redis | RedisCluster) -> bool:
    """Can one MULTI/EXEC (or one XREADGROUP) span any keys of `conn`? Not on a Redis
    Cluster, where only keys of one slot (one `{N}` shard, or one single key) can."""
    return not isinstance(conn, RedisCluster)


def connect(url: str, **kwargs) -> redis.Redis | RedisCluster:
    """A client for the engine's keys at `url` (cluster mode detected from the server)."""
    if is_cluster(url):
        return RedisCluster.from_url(url, **kwargs)
    return redis.Redis.from_url(url, **kwargs)

"""One Redis client per URL per process (connections are passed explicitly,
docs/architecture.md §6)."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis

from engine.redis_client import connect


@lru_cache(maxsize=8)
def redis_for(url: str) -> Redis:
    return Redis.from_url(url)


@lru_cache(maxsize=8)
def engine_redis_for(url: str):
    """The engine's keys (`acd:{N}:…`) at ENGINE_REDIS_URL: a Redis or a RedisCluster."""
    return connect(url)

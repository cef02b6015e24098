"""One Redis client per URL per process (connections are passed explicitly, ARCHITECTURE §6)."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis


@lru_cache(maxsize=8)
def redis_for(url: str) -> Redis:
    return Redis.from_url(url)

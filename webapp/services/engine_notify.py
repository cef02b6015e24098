"""Tell the queue engine that its configuration document changed
(docs/protocol.md `config.reload`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from redis.exceptions import RedisClusterException, RedisError

from webapp.redis_conn import engine_redis_for

log = logging.getLogger(__name__)


def engine_stream(shard: int) -> str:
    return f"acd:{{{shard}}}:in"


def publish_config_reload(redis_url: str, shard: int = 0,
                          numbers: Iterable[str] | None = None) -> bool:
    """XADD `{"type": "config.reload", "ts": <ms>}` on `acd:{N}:in` (`redis_url`: the
    engine's, ENGINE_REDIS_URL; `shard`: the edited account's, SCALE-1).

    `numbers`: the welcome numbers the edit touched (SCALE-2): the entry then carries
    them (`numbers`, comma-separated) and the engine rebuilds just their sections (an
    empty field: the edit touched none, the engine has nothing to rebuild). None: the
    whole document.

    Called after the database change is committed. Returns False (and logs)
    when Redis cannot be reached, so the caller can tell the person; the change
    itself stays saved and the engine picks it up at its next reload or start.
    """
    fields = {"type": "config.reload", "ts": str(int(time.time() * 1000))}
    if numbers is not None:
        fields["numbers"] = ",".join(sorted(set(numbers)))
    try:
        engine_redis_for(redis_url).xadd(engine_stream(shard), fields)
    except (RedisError, RedisClusterException, OSError):
        log.exception("config.reload could not be published on shard %s", shard)
        return False
    return True

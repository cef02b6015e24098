"""Starting, following and confirming a directory synchronisation from the web (DIR-6).

The web side of `worker.directory_sync`: it stores the upload, records the state in
Redis hash `dirsync:{token}` (2 h) and enqueues the worker's preview and apply jobs
by name (services never import the worker).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from rq import Queue

from webapp.redis_conn import redis_for

QUEUE = "default"
TTL_S = 2 * 3600
KEY = "dirsync:{token}"


def imports_dir(data_dir) -> Path:
    path = Path(data_dir) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(redis_url: str, data_dir, *, account_id: int, user_id: int, data: bytes,
          filename: str) -> str:
    """Store the upload, record the state and enqueue the preview; returns the token."""
    token = secrets.token_urlsafe(16)
    path = imports_dir(data_dir) / f"{token}.csv"
    path.write_bytes(data)
    conn = redis_for(redis_url)
    key = KEY.format(token=token)
    conn.hset(key, mapping={"account": account_id, "user": user_id, "file": str(path),
                            "filename": filename[:120], "state": "queued", "done": 0,
                            "total": 0})
    conn.expire(key, TTL_S)
    Queue(QUEUE, connection=conn).enqueue("worker.directory_sync.preview", token,
                                          job_timeout=1800, description="dirsync.preview")
    return token


def state(redis_url: str, token: str) -> dict | None:
    raw = redis_for(redis_url).hgetall(KEY.format(token=token))
    if not raw:
        return None
    out = {k.decode(): v.decode() for k, v in raw.items()}
    for name in ("summary", "result"):
        if name in out:
            out[name] = json.loads(out[name])
    for name in ("account", "user", "done", "total"):
        out[name] = int(out.get(name) or 0)
    return out


def confirm(redis_url: str, token: str) -> bool:
    """ready → applying (once: a double click enqueues nothing more)."""
    conn = redis_for(redis_url)
    key = KEY.format(token=token)
    with conn.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if pipe.hget(key, "state") != b"ready":
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.hset(key, mapping={"state": "applying", "done": 0})
                pipe.execute()
                break
            except Exception as exc:  # WatchError: someone else changed it, re-read
                if type(exc).__name__ != "WatchError":
                    raise
    Queue(QUEUE, connection=conn).enqueue("worker.directory_sync.apply", token,
                                          job_timeout=1800, description="dirsync.apply")
    return True


def cancel(redis_url: str, token: str) -> None:
    conn = redis_for(redis_url)
    key = KEY.format(token=token)
    path = conn.hget(key, "file")
    if path:
        Path(path.decode()).unlink(missing_ok=True)
    conn.delete(key)

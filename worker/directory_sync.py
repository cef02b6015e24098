"""RQ jobs of "Synchroniser" (DIR-6): preview then apply a directory CSV, off the web request.

State of one synchronisation lives in Redis hash `dirsync:{token}` (2 h):
account, user, file (under DATA_DIR/imports), state, done, total, summary (JSON), result.
States: queued → reading → ready | invalid (bad rows / unusable file) → applying → done
| stale (the directory changed since the preview) | failed.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

from rq import Queue

from webapp.db import db
from webapp.models import User
from webapp.redis_conn import redis_for
from webapp.services import directory_csv
from webapp.services.access import access_for
from webapp.settings import load
from worker.bootstrap import ensure_db

log = logging.getLogger(__name__)

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


# --- jobs ---------------------------------------------------------------------------

def _context(token: str):
    settings = load()
    ensure_db(settings)
    conn = redis_for(settings.REDIS_URL)
    key = KEY.format(token=token)
    raw = {k.decode(): v.decode() for k, v in conn.hgetall(key).items()}
    return conn, key, raw


def _progress(conn, key):
    def report(done: int, total: int) -> None:
        conn.hset(key, mapping={"done": done, "total": total})
    return report


def _plan(raw: dict, conn, key):
    user = User.get_or_none(User.id == int(raw["user"]))
    if user is None or user.account_id != int(raw["account"]):
        raise PermissionError("user gone")
    access = access_for(user)
    rows = directory_csv.read(Path(raw["file"]).read_bytes())
    return user, access, directory_csv.plan(access, rows, _progress(conn, key))


def preview(token: str) -> str:
    conn, key, raw = _context(token)
    if not raw:
        return "expired"
    conn.hset(key, "state", "reading")
    with db.connection_context():
        try:
            _user, _access, result = _plan(raw, conn, key)
        except directory_csv.CsvFileError as exc:
            conn.hset(key, mapping={"state": "invalid", "summary": json.dumps(
                {"file_error": str(exc)})})
            return "invalid"
        except Exception:
            log.exception("directory sync preview failed")
            conn.hset(key, "state", "failed")
            raise
    summary = result.summary()
    conn.hset(key, mapping={"state": "invalid" if result.errors else "ready",
                            "summary": json.dumps(summary)})
    return "ready"


def apply(token: str) -> str:
    conn, key, raw = _context(token)
    if not raw or raw.get("state") != "applying":
        return "skipped"
    shown = json.loads(raw["summary"])["fingerprint"]
    with db.connection_context():
        try:
            user, access, result = _plan(raw, conn, key)
            if result.errors or result.fingerprint() != shown:
                conn.hset(key, "state", "stale")
                return "stale"
            counts = directory_csv.apply(access, result, user=user,
                                         progress=_progress(conn, key))
        except Exception:
            log.exception("directory sync apply failed")
            conn.hset(key, "state", "failed")
            raise
    conn.hset(key, mapping={"state": "done", "result": json.dumps(counts)})
    Path(raw["file"]).unlink(missing_ok=True)
    return "done"

"""RQ jobs of "Synchroniser" (DIR-6): preview then apply a directory CSV, off the web request.

State of one synchronisation lives in Redis hash `dirsync:{token}` (2 h):
account, user, file (under DATA_DIR/imports), state, done, total, summary (JSON), result.
States: queued → reading → ready | invalid (bad rows / unusable file) → applying → done
| stale (the directory changed since the preview) | failed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from webapp.db import db
from webapp.models import User
from webapp.redis_conn import redis_for
from webapp.services import directory_csv, directory_plan
from webapp.services.access import access_for
from webapp.services.actor import Actor
from webapp.services.directory_sync import KEY
from webapp.settings import load
from worker.bootstrap import ensure_db

log = logging.getLogger(__name__)

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
    return user, access, directory_plan.plan(access, rows, _progress(conn, key))


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
            counts = directory_plan.apply(access, result, actor=Actor(user),
                                          progress=_progress(conn, key))
        except Exception:
            log.exception("directory sync apply failed")
            conn.hset(key, "state", "failed")
            raise
    conn.hset(key, mapping={"state": "done", "result": json.dumps(counts)})
    Path(raw["file"]).unlink(missing_ok=True)
    return "done"

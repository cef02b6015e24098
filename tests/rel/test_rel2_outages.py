"""REL-2: processes survive outages and one crash never takes the others down.

Real components only: the Procfile's processes (under the supervisord configuration that
`make run` generates, or bare), a real redis-server, a real PostgreSQL cluster, a second
process holding SQLite's write lock.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time

import requests

from tests.rel.stack import Stack, Supervised, csrf, sign_in, wait_until


def _log_entries(conn, prefix: str, n: int, pause_every: int = 0) -> None:
    for k in range(n):
        conn.xadd("acd:{0}:log", {"type": "abandoned", "number": "+33100000001",
                                  "call": f"{prefix}-{k}", "wait_ms": "1000",
                                  "ts": str(int(time.time() * 1000))})
        if pause_every and k % pause_every == pause_every - 1:
            time.sleep(0.02)


def _copied(prefix: str) -> tuple[int, int]:
    """(rows, distinct calls) of CallLogEntry for this prefix."""
    from peewee import fn

    from webapp.db import db
    from webapp.models import CallLogEntry

    with db.connection_context():
        q = CallLogEntry.select().where(CallLogEntry.call.startswith(prefix))
        return q.count(), q.select(fn.COUNT(CallLogEntry.call.distinct())).scalar()


def test_rel2_kill9_calllog_comes_back_and_catches_up(sqlite_demo, redis_url, redis_conn,
                                                       tmp_path):
    """supervisord (as `make run` configures it) restarts calllog after kill -9; the web
    keeps answering meanwhile; every entry is copied exactly once."""
    url, _demo = sqlite_demo
    stack = Stack(tmp_path, url, redis_url)
    sup = Supervised(stack, ["web", "calllog"])
    try:
        first = wait_until(lambda: sup.python_pid("worker.calllog"), 30)
        wait_until(lambda: _ok(stack.url + "/sante"), 30)
        writer = threading.Thread(target=_log_entries, args=(redis_conn, "k9", 400, 10))
        writer.start()
        wait_until(lambda: _copied("k9")[0] > 50, 30, message="calllog copies nothing")
        os.kill(first, signal.SIGKILL)
        assert _ok(stack.url + "/sante")  # the others did not stop
        again = wait_until(lambda: (p := sup.python_pid("worker.calllog")) and p != first
                           and p, 30, message="calllog was not restarted")
        writer.join(60)
        wait_until(lambda: _copied("k9")[0] >= 400, 60, message="calllog did not catch up")
        time.sleep(1)  # nothing more arrives: no entry is copied twice
        assert _copied("k9") == (400, 400)
        assert redis_conn.xpending("acd:{0}:log", "calllog")["pending"] == 0
        assert sup.python_pid("worker.calllog") == again
        assert _ok(stack.url + "/sante")
        assert "exited: calllog" in sup.output()
    finally:
        sup.stop()


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:
        return False

"""SWB-3: `python -m worker.calllog` as the Procfile runs it (here with --burst)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_swb3_calllog_process_copies_the_log_once(redis_url, redis_conn, database_url, db_conn,
                                                  demo):
    from webapp.models import CallLogEntry

    for i in range(3):
        redis_conn.xadd("acd:{0}:log", {"type": "abandoned", "number": "+33100000001",
                                        "call": f"p{i}", "wait_ms": "1500",
                                        "ts": str(1767607250000 + i)})
    redis_conn.xadd("acd:{0}:log", {"type": "broken"})  # malformed: skipped, acknowledged
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "worker.calllog", "--burst"], cwd=ROOT,
                              env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
    rows = list(CallLogEntry.select().order_by(CallLogEntry.call))
    assert [r.call for r in rows] == ["p0", "p1", "p2"]
    assert {r.account_id for r in rows} == {demo.account.id}
    assert redis_conn.xpending("acd:{0}:log", "calllog")["pending"] == 0

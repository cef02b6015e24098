"""SSE traffic of the switchboard (SWB-1 "little traffic"): bytes per minute of the
stream body for one page showing the demo welcome number, idle then busy.

    .venv/bin/python -m bench.switchboard_sse [--seconds 60] [--rate 6]

Idle: engine running, no calls, agents offline (nothing changes). Busy: the simulator
(`--rate` calls per minute, default 6 like a busy reception desk; agents answer in 1–6 s,
talk ~45 s). Counts the bytes of the event-stream body exactly as the server writes it
(HTTP chunk framing adds ~6 bytes per write; headers once per 5-minute connection).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=6.0)
    args = ap.parse_args()
    from tests.servers import RedisServer

    tmp = Path(tempfile.mkdtemp(prefix="cm-bench-sse-"))
    with RedisServer() as redis_server:
        os.environ.update(SECRET_KEY="bench", REDIS_URL=redis_server.url,
                          DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}", DATA_DIR=str(tmp))
        from webapp.app import create_app
        from webapp.db import db, init_db
        from webapp.migrate import upgrade
        from webapp.services.demo import load_demo

        database = init_db(os.environ["DATABASE_URL"])
        upgrade(database)
        with db.connection_context():
            load_demo()
        app = create_app({"TESTING": True})
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        engine = subprocess.Popen([sys.executable, "-m", "engine", "--redis-url",
                                   redis_server.url], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            from flask import g

            from webapp.blueprints.switchboard import render_items
            from webapp.models import Service
            from webapp.redis_conn import redis_for
            from webapp.services import switchboard as svc

            with app.test_request_context("/standard"), db.connection_context():
                boards = svc.boards(list(Service.select().where(Service.kind == "welcome")))

            def render(board, v):
                with app.test_request_context("/standard"), db.connection_context():
                    g.sb_directory = directory
                    return render_items(board, v, True)

            directory = svc.Directory(boards[0].account_id)

            conn = redis_for(redis_server.url)
            time.sleep(2)
            for phase in ("idle", "busy"):
                sim = None
                if phase == "busy":
                    sim = subprocess.Popen(
                        [sys.executable, "-m", "engine.simulator", "--redis-url",
                         redis_server.url, "--rate", str(args.rate), "--seed", "1"],
                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(5)
                stream = svc.changes(conn, 0, boards, render, directory=directory)
                next(stream)  # "retry:" line
                first = next(stream)  # the full state sent once per (re)connection
                total, writes, start = 0, 0, time.monotonic()
                lags: list[int] = []
                while time.monotonic() - start < args.seconds:
                    chunk = next(stream)
                    total += len(chunk.encode())
                    writes += 1
                    if chunk.startswith("event: u"):
                        # engine's change (the snapshot's ts) → this write of the stream
                        snap = json.loads(conn.hget("acd:{0}:state", boards[0].number))
                        lags.append(int(time.time() * 1000) - snap["ts"])
                per_min = total * 60 / args.seconds
                lag = (f"; snapshot → stream write median {statistics.median(lags):.0f} ms, "
                       f"max {max(lags)} ms") if lags else ""
                print(f"{phase}: {per_min:.0f} bytes/min of events ({per_min / 60:.0f} B/s, "
                      f"{writes} writes in {args.seconds:.0f} s); initial state "
                      f"{len(first.encode())} bytes{lag}")
                stream.close()
                if sim:
                    sim.terminate()
                    sim.wait(10)
        finally:
            engine.terminate()
            engine.wait(10)
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

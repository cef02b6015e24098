"""REL-2 + REL-5: Redis restarted under a running stack (supervisord as `make run` sets it
up, Redis with the append-only file `make run` uses).

Redis is shut down (SHUTDOWN: the AOF is flushed) while calls flow, stays down 30 s, and
starts again from its files. What the engine had — live calls, lines, the `log` of
outcomes, the `in` entries still pending — is there again, identical; calls are
distributed again, pages are served with the sessions kept; every call has at most one
outcome and calllog has copied each log entry exactly once.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import redis as redis_lib
import requests

from tests.reliability.stack import Stack, Supervised, calllog_caught_up, sign_in
from tests.servers import free_port, redis_server_binary, wait_for_port
from tests.waiting import wait_until

OUTCOMES = {"answered", "abandoned", "rejected", "forwarded", "transferred", "closed"}
OUTAGE_S = 30


class AofRedis:
    """redis-server as `make run` starts it: appendonly yes, appendfsync everysec."""

    def __init__(self, directory, port: int | None = None) -> None:
        self.dir, self.port = directory, port or free_port()
        self.proc = None

    def start(self) -> AofRedis:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        wait_until(lambda: self._loaded(), 30)
        return self

    def _loaded(self) -> bool:
        try:
            return redis_lib.Redis(port=self.port).info("persistence")["loading"] == 0
        except redis_lib.RedisError:
            return False

    def shutdown(self) -> None:
        try:
            redis_lib.Redis(port=self.port).shutdown()
        except redis_lib.ConnectionError:
            pass
        self.proc.wait(30)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def engine_view(conn) -> dict:
    """What must survive: the engine's state and recovery keys, its streams."""
    k = "acd:{0}:"
    pending = conn.xpending(k + "in", "engine")["pending"] if conn.exists(k + "in") else 0
    return {
        "calls": conn.hgetall(k + "calls"), "agents": conn.hgetall(k + "agents"),
        "meta": conn.hgetall(k + "meta"), "state": conn.hgetall(k + "state"),
        "log": [eid for eid, _ in conn.xrange(k + "log")],
        "in": conn.xlen(k + "in"), "in_pending": pending,
    }


def test_rel5_redis_restart_keeps_engine_state_and_outcomes(sqlite_demo, smtp, tmp_path):
    from webapp.db import db
    from webapp.models import CallLogEntry

    url, demo = sqlite_demo
    data = tmp_path / "redis"
    data.mkdir()
    server = AofRedis(data).start()
    redis_url = f"redis://127.0.0.1:{server.port}/0"
    stack = Stack(tmp_path, url, redis_url)
    fast = (".venv/bin/python -m engine.simulator --redis-url ${REDIS_URL} --rate 60 "
            "--answer-min 0.2 --answer-max 1.5")
    sup = Supervised(stack, ["web", "worker", "engine", "calllog"], {"simulator": fast})
    conn = redis_lib.Redis(port=server.port)
    try:
        wait_until(lambda: _status(stack.url + "/sante") == 200, 60)
        session = sign_in(stack.url, demo.admin_email, demo.password, smtp)
        copied = lambda: _count(db, CallLogEntry)  # noqa: E731
        wait_until(lambda: copied() >= 5, 90, message="no outcome reached calllog")

        conn.execute_command("CLIENT", "PAUSE", "10000", "WRITE")  # a still picture
        before = engine_view(conn)
        assert before["calls"] or before["log"]
        server.shutdown()
        down_at = time.monotonic()

        # the files alone, read by another server: identical to what was there
        copy = tmp_path / "redis-copy"
        shutil.copytree(data, copy)
        probe = AofRedis(copy).start()
        try:
            assert engine_view(redis_lib.Redis(port=probe.port)) == before
        finally:
            probe.kill()

        assert _status(stack.url + "/sante") == 200  # the web answers without Redis
        # the outage itself: Redis stays down OUTAGE_S seconds, the duration under test
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        server = AofRedis(data, server.port).start()
        conn = redis_lib.Redis(port=server.port)

        # calls distributed again, pages served with the session kept (AOF)
        wait_until(lambda: conn.xlen("acd:{0}:log") >= len(before["log"]) + 5, 90,
                   message="no new outcome after the restart")
        page = session.get(stack.url + "/standard", allow_redirects=False, timeout=30)
        assert page.status_code == 200, page.status_code

        sup.ctl("stop", "simulator")
        log = conn.xrange("acd:{0}:log")
        outcomes: dict[str, int] = {}
        for _eid, fields in log:
            if fields[b"type"].decode() in OUTCOMES:
                call = fields[b"call"].decode()
                outcomes[call] = outcomes.get(call, 0) + 1
        assert outcomes and max(outcomes.values()) == 1  # no outcome doubled
        wait_until(lambda: copied() >= conn.xlen("acd:{0}:log"), 60,
                   message="calllog did not catch up")
        wait_until(lambda: calllog_caught_up(conn), 60,
                   message="calllog left entries unacknowledged")  # nothing more can arrive
        assert copied() == conn.xlen("acd:{0}:log")  # each entry once
        out = sup.output()
        print("\n".join(line[:160] for line in out.splitlines()
                        if "unreachable" in line or "resuming" in line or "exited:" in line))
        for name in ("web", "worker", "engine", "calllog"):  # survived, not restarted
            assert "RUNNING" in sup.ctl("status", name), out[-3000:]
            assert f"exited: {name} " not in out, out[-3000:]
        # the simulator is demo-only; RQ's scheduler subprocess prints a traceback of its own
        # when Redis goes away (RQ's code; the worker survives and restarts it)
        ours = "\n".join(line for line in out.splitlines()
                         if line.split("|")[0].strip() in ("web", "engine", "calllog"))
        assert "Traceback" not in ours, ours[-5000:]
    finally:
        sup.stop()
        server.kill()


def _count(db, model) -> int:
    with db.connection_context():
        return model.select().count()


def _status(url: str) -> int:
    try:
        return requests.get(url, timeout=10).status_code
    except requests.RequestException:
        return 0

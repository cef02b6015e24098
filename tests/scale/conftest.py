"""Fixtures of the operator-scale area: a real 3-master Redis Cluster for the
engine's keys, accounts on two shards, engines as subprocesses (`python -m engine`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import factories
from tests.servers import RedisClusterServer

ROOT = Path(__file__).parents[2]
PASSWORD = "scale-tests-password-2026"


@pytest.fixture(scope="session")
def redis_cluster():
    with RedisClusterServer(masters=3) as cluster:
        yield cluster


@pytest.fixture
def cluster_conn(redis_cluster):
    from engine.redis_client import connect

    conn = connect(redis_cluster.url)
    conn.flushall()  # every primary
    yield conn
    conn.close()


@pytest.fixture
def app(redis_cluster, cluster_conn, database_url, redis_url, smtp, monkeypatch):
    """The web app with two engine shards whose keys live on the Redis Cluster (sessions,
    limits and RQ stay on the plain REDIS_URL)."""
    from webapp.app import create_app

    monkeypatch.setenv("ENGINE_SHARDS", "2")
    monkeypatch.setenv("ENGINE_REDIS_URL", redis_cluster.url)
    yield create_app({"TESTING": True})


def make_account(name: str, prefix: str, *, timezone: str = "Europe/Paris",
                 agents: int = 2, rest_s: int = 0):
    """An account with `agents` fixed lines, a welcome number whose entry is a queue of
    those lines (no time rule: it always answers), and a signed-in-able administrator."""
    account = factories.make_account(name, timezone=timezone)
    lines = [factories.make_line(account, f"{prefix}{101 + i}", label=f"Ligne {i + 1}")
             for i in range(agents)]
    welcome = factories.make_welcome_number(account, f"{prefix}001", lines, size=5,
                                            rest_s=rest_s, ring_s=60)
    email = f"admin@{name.lower()}.test"
    factories.make_admin(account, email, PASSWORD, "Admin", name)
    return account, welcome, lines, email


class Engines:
    """`python -m engine --shard N` subprocesses building their document from the DB."""

    def __init__(self, redis_url: str, database_url: str, logs: Path) -> None:
        self.redis_url, self.database_url, self.logs = redis_url, database_url, logs
        self.procs: dict[int, subprocess.Popen] = {}

    def start(self, shard: int) -> subprocess.Popen:
        err = open(self.logs / f"engine-{shard}.err", "ab")  # noqa: SIM115 - the child keeps it
        self.procs[shard] = subprocess.Popen(
            [sys.executable, "-m", "engine", "--redis-url", self.redis_url, "--shard",
             str(shard)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": self.database_url})
        err.close()
        return self.procs[shard]

    def kill9(self, shard: int) -> None:
        proc = self.procs.pop(shard)
        proc.kill()  # SIGKILL: no clean stop
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(10)


@pytest.fixture
def engines(redis_cluster, database_url, tmp_path):
    found = Engines(redis_cluster.url, database_url, tmp_path)
    yield found
    found.stop()


def entries(conn, stream: str) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _, f in conn.xrange(stream)]


def send(conn, shard: int, **fields) -> None:
    fields.setdefault("ts", str(int(time.time() * 1000)))
    conn.xadd(f"acd:{{{shard}}}:in", {k: str(v) for k, v in fields.items()})


def caught_up(conn, shard: int) -> bool:
    stream = f"acd:{{{shard}}}:in"
    if not conn.exists(stream):
        return False
    groups = conn.xinfo_groups(stream)
    last = conn.xinfo_stream(stream)["last-generated-id"]
    return bool(groups) and groups[0]["pending"] == 0 and groups[0]["last-delivered-id"] == last

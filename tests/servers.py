"""Throw-away real servers for tests and benchmarks: Redis and an SMTP sink.

Tests use the real things (docs/architecture.md §8); these helpers only start and stop
them on free loopback ports so that nothing depends on services started by hand.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from deploy.redis_binary import redis_server_binary
from tests.waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A server process in a temporary folder: `with` starts it (the subclass's `start`),
    then stops it (TERM, at most `stop_s` seconds) and removes the folder."""

    stop_s = 10
    proc: subprocess.Popen[bytes] | None
    dir: str | Path

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(self.stop_s)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisServer(_Server):
    """A redis-server on a free port, without persistence, in a temporary folder."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cm-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True


def _accepts_quietly(port: int) -> bool:
    try:
        return _accepts(port)
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    wait_until(lambda: _accepts(port), timeout, interval=0.02, ignoring=OSError,
               message=f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def mail_dir_messages(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml"))


def postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


class PostgresServer(_Server):
    """A throw-away PostgreSQL cluster on a free port (Debian's server binaries).

    initdb refuses to run as root, so the cluster belongs to the `postgres` user.
    """

    stop_s = 20

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cm-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.bindir = postgres_bindir()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def start(self) -> PostgresServer:
        if self.bindir is None:
            raise RuntimeError("PostgreSQL introuvable : lancez `make test`")
        data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(self._as_postgres(str(self.bindir / "initdb"), "-D", str(data), "-A",
                                         "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            self._as_postgres(str(self.bindir / "postgres"), "-D", str(data), "-p",
                              str(self.port), "-k", str(self.dir), "-c",
                              "listen_addresses=127.0.0.1", "-c", "fsync=off"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=30)
        return self

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = wait_until(lambda: psycopg2.connect(self.url()), 10, interval=0.1,
                          ignoring=psycopg2.OperationalError,
                          message="PostgreSQL accepts no connection")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)


def redis_cli_binary() -> str:
    found = os.environ.get("REDIS_CLI_BIN") or shutil.which("redis-cli")
    if not found:  # pragma: no cover - the Makefile's redis-bin installs Debian's redis-tools
        raise RuntimeError("redis-cli introuvable : lancez `make test` (paquet redis-tools)")
    return found


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisClusterServer:
    """A real Redis Cluster of `masters` redis-server nodes (`cluster-enabled yes`, no
    replicas) on free loopback ports, joined by `redis-cli --cluster create`."""

    def __init__(self, masters: int = 3) -> None:
        self.ports = [_cluster_port() for _ in range(masters)]
        self.dir = tempfile.mkdtemp(prefix="cm-redis-cluster-")
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> RedisClusterServer:
        try:
            return self._start()
        except BaseException:  # never leave nodes running behind a failed start
            self.stop()
            raise

    def _node(self, port: int) -> subprocess.Popen[bytes]:
        node_dir = Path(self.dir) / str(port)
        node_dir.mkdir()
        return subprocess.Popen(
            [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no",
             "--dir", str(node_dir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _start(self) -> RedisClusterServer:
        for i, port in enumerate(self.ports):
            proc = self._node(port)
            self.procs.append(proc)
            # a free port can be taken again (an outgoing connection's local port) before
            # the node binds it: such a node exits at once, and gets another port
            for _retry in range(3):
                wait_until(lambda p=proc, n=port: p.poll() is not None or _accepts_quietly(n),
                           10, message=f"nothing listens on 127.0.0.1:{port} after 10s")
                if proc.poll() is None:
                    break
                port = self.ports[i] = _cluster_port()
                proc = self.procs[i] = self._node(port)
        for port in self.ports:
            wait_for_port(port)
        subprocess.run([redis_cli_binary(), "--cluster", "create",
                        *[f"127.0.0.1:{p}" for p in self.ports], "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
        wait_until(self._slots_covered, 30,
                   message="the Redis Cluster did not reach cluster_state:ok")
        return self

    def _slots_covered(self) -> bool:
        """Every node agrees the slots are covered."""
        return all("cluster_state:ok" in subprocess.run(
            [redis_cli_binary(), "-p", str(p), "cluster", "info"], capture_output=True,
            text=True).stdout for p in self.ports)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisClusterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

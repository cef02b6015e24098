"""REL-2: processes survive outages and one crash never takes the others down.

Real components only: the Procfile's processes (under the supervisord configuration that
`make run` generates, or bare), a real redis-server, a real PostgreSQL cluster, a second
process holding SQLite's write lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import requests

from tests.reliability.stack import Stack, Supervised, calllog_caught_up, csrf, sign_in
from tests.waiting import wait_until


def _log_entries(conn, prefix: str, n: int, pause_every: int = 0) -> None:
    for k in range(n):
        conn.xadd("acd:{0}:log", {"type": "abandoned", "number": "+33100000001",
                                  "call": f"{prefix}-{k}", "wait_ms": "1000",
                                  "ts": str(int(time.time() * 1000))})
        if pause_every and k % pause_every == pause_every - 1:
            time.sleep(0.02)  # the writer's pace (a call centre, not one burst), not a wait


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
        wait_until(lambda: calllog_caught_up(redis_conn), 60,
                   message="calllog left entries unacknowledged")  # nothing more can arrive
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


def _pg_stop(server) -> None:
    subprocess.run(server._as_postgres(str(server.bindir / "pg_ctl"), "-D",
                                       str(server.dir / "data"), "stop", "-m", "fast", "-w"),
                   check=True, stdout=subprocess.DEVNULL, timeout=60)  # clients cut off
    server.proc.wait(30)


def _pg_start(server) -> None:
    from tests.servers import wait_for_port

    data = server.dir / "data"
    server.proc = subprocess.Popen(
        server._as_postgres(str(server.bindir / "postgres"), "-D", str(data), "-p",
                            str(server.port), "-k", str(server.dir), "-c",
                            "listen_addresses=127.0.0.1", "-c", "fsync=off"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(server.port, timeout=30)

    def accepts() -> bool:
        import psycopg2

        try:
            psycopg2.connect(server.url()).close()
            return True
        except psycopg2.OperationalError:  # "the database system is starting up"
            return False
    wait_until(accepts, 30)


def _create_site(stack, session, name: str) -> int:
    token = csrf(session.get(stack.url + "/gerer/sites", timeout=30).text)
    return session.post(stack.url + "/gerer/sites/nouveau", data={"name": name,
                        "csrf_token": token}, allow_redirects=False, timeout=60).status_code


def _site_exists(name: str) -> bool:
    from webapp.db import db
    from webapp.models import Site

    with db.connection_context():
        return Site.select().where(Site.name == name).exists()


def test_rel2_postgres_stopped_30s_under_running_stack(redis_url, redis_conn, smtp, tmp_path):
    """PostgreSQL stops for 30 s: web, worker, engine and calllog keep running (not
    restarted), log the outage once, and resume: entries logged meanwhile are copied, a job
    enqueued meanwhile runs, pages and writes work again."""
    from rq import Queue

    from tests.servers import PostgresServer
    from webapp.services.actor import Actor
    from webapp.services.password_links import send_password_link_later as enqueue_password_link

    with PostgresServer() as pg:  # its own cluster: this test stops it
        from tests.reliability.conftest import _load_demo

        url = pg.create_database("rel2_outage")
        demo = _load_demo(url)
        stack = Stack(tmp_path, url, redis_url)
        try:
            for name in ("web", "worker", "engine", "calllog"):
                stack.start(name)
            session = sign_in(stack.url, demo.admin_email, demo.password, smtp)
            _log_entries(redis_conn, "pg-before", 20)
            wait_until(lambda: _copied("pg-before")[0] == 20, 30)
            _pg_stop(pg)
            down = time.monotonic()
            _log_entries(redis_conn, "pg-during", 50)
            before_mail = len(smtp.messages(demo.admin_email))
            enqueue_password_link(demo.admin_email, actor=Actor.visitor("127.0.0.1", redis_url))
            health = requests.get(stack.url + "/sante", timeout=30)
            assert health.status_code == 503 and health.headers["Retry-After"]  # not a 500
            # the outage itself: PostgreSQL stays down 30 s, the duration under test
            time.sleep(max(0.0, 30 - (time.monotonic() - down)))
            for name, proc in stack.procs.items():
                assert proc.poll() is None, f"{name} died\n{stack.log(name)[-3000:]}"
            _pg_start(pg)
            wait_until(lambda: _copied("pg-during")[0] == 50, 60,
                       message=lambda: f"calllog did not resume\n{stack.log('calllog')[-2000:]}")
            assert _copied("pg-during") == (50, 50)
            wait_until(lambda: len(smtp.messages(demo.admin_email)) > before_mail, 60,
                       message="the job enqueued during the outage never ran")
            assert wait_until(lambda: _create_site(stack, session, "Après panne") == 303, 30)
            assert _site_exists("Après panne")
            assert Queue("mail", connection=redis_conn).failed_job_registry.count == 0
            for name, proc in stack.procs.items():
                assert proc.poll() is None, f"{name} died\n{stack.log(name)[-3000:]}"
            for name in ("calllog", "web", "worker", "engine"):
                assert "Traceback" not in stack.log(name), stack.log(name)[-3000:]
            assert stack.log("calllog").count("unreachable") == 1, stack.log("calllog")
        finally:
            stack.stop()


def test_rel2_sqlite_write_lock_held_10s(sqlite_demo, redis_url, redis_conn, smtp, tmp_path):
    """Another process holds SQLite's write lock for 10 s: pages are served meanwhile (WAL
    readers), a web write waits and succeeds, calllog copies what arrived once released."""
    url, demo = sqlite_demo
    path = url.removeprefix("sqlite:///")
    stack = Stack(tmp_path, url, redis_url)
    try:
        for name in ("web", "worker", "calllog"):
            stack.start(name)
        session = sign_in(stack.url, demo.admin_email, demo.password, smtp)
        # another process holds the write lock until the test lets it go (after 10 s)
        holder = subprocess.Popen(
            ["python3", "-c", "import sqlite3, sys\n"
             f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
             "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True)\n"
             "sys.stdin.readline(); c.execute('COMMIT'); print('released', flush=True)\n"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        _log_entries(redis_conn, "lock", 30)
        answers = []
        writer = threading.Thread(
            target=lambda: answers.append(_create_site(stack, session, "Pendant le verrou")))
        writer.start()
        # reads go on while the lock is held: the holder lets go only after this answer
        page = session.get(stack.url + "/gerer/sites", timeout=30)
        assert page.status_code == 200 and "Site par défaut" in page.text
        assert answers == []  # the write waits for the lock, it is not refused
        time.sleep(max(0.0, 10 - (time.monotonic() - locked_at)))  # the lock lasts 10 s
        holder.stdin.write("\n")
        holder.stdin.close()
        assert holder.stdout.readline().strip() == "released"
        holder.wait(10)
        holder.stdout.close()
        writer.join(30)
        assert answers == [303] and _site_exists("Pendant le verrou")
        wait_until(lambda: _copied("lock")[0] == 30, 30,
                   message=lambda: stack.log("calllog")[-2000:])
        assert _copied("lock") == (30, 30)
        assert session.get(stack.url + "/gerer/sites", timeout=30).status_code == 200
        for name, proc in stack.procs.items():
            assert proc.poll() is None, f"{name} died\n{stack.log(name)[-3000:]}"
            assert "Traceback" not in stack.log(name), stack.log(name)[-3000:]
    finally:
        stack.stop()

"""SEC-4 capacity: does the sign-in page keep answering while many switchboard streams
are open? The `web` line of the Procfile runs for real (gunicorn, 2 workers) on a demo
database; users sign in over HTTP and open `/standard/flux` like a browser tab.

    .venv/bin/python -m bench.streams [--users 34] [--per-user 3] [--signins 60]
                                      [--command "<another web command>"]

Phases, each measuring `--signins` sign-ins (GET /connexion, then POST the password of a
user whose 2FA is disabled, as one sign-in) from a separate client:
  baseline  no stream open;
  loaded    `--users` × `--per-user` streams open (default 34 × 3 = 102, all kept);
  capped    10 users opening 10 streams each (100 opened): the cap closes the oldest,
            30 stay open, and the sign-in is measured again.
Prints p50/p95/max and the ratio loaded/baseline, the open-stream counts, and the load
average (the machine is shared: compare ratios, not absolute times). Before each phase's
sign-ins, the web process's CPU time is read over 10 quiet seconds (no sign-in): what the
open streams alone cost the workers, in CPU milliseconds per second of wall time — a
figure that the machine's load does not inflate.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "banc d'essai des flux"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def prepare(database_url: str, users: int) -> list[str]:
    """Demo company, plus `users` supervisors with 2FA disabled (password-only sign-in)."""
    from webapp.db import db, init_db
    from webapp.migrate import upgrade
    from webapp.models import TFA_DISABLED, Contact, Licence, Role, User, UserRole
    from webapp.services.accounts import default_site
    from webapp.services.demo import load_demo
    from webapp.services.passwords import hash_password

    database = init_db(database_url)
    upgrade(database)
    emails = []
    with db.connection_context():
        demo = load_demo()
        role = Role.create(account=demo.account, name="Banc standard",
                           permissions="calls.supervise sites.access", scope="all")
        password_hash = hash_password(PASSWORD)
        for n in range(users):
            email = f"standard{n}@banc.example"
            contact = Contact.create(account=demo.account, site=default_site(demo.account),
                                     first_name=f"Standard{n}", last_name="Banc", email=email)
            Licence.create(account=demo.account, contact=contact, product="manager")
            user = User.create(account=demo.account, contact=contact, email=email,
                               password_hash=password_hash, tfa_state=TFA_DISABLED)
            UserRole.create(user=user, role=role)
            emails.append(email)
    database.close()
    return emails


def sign_in(base: str, email: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/connexion", timeout=30).text
    r = s.post(base + "/connexion", data={"email": email, "password": PASSWORD,
                                          "csrf_token": csrf(page)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, (r.status_code, r.text[:200])
    return s


class Stream(threading.Thread):
    """One open `/standard/flux` (raw socket, like an EventSource), read until closed."""

    def __init__(self, port: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.opened = threading.Event()
        self.closed_by_server = False
        self.ended = threading.Event()
        self.sock: socket.socket | None = None

    def run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=600)
        self.sock = sock
        sock.sendall((f"GET /standard/flux HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Cookie: {self.cookie}\r\nAccept: text/event-stream\r\n\r\n").encode())
        seen = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                seen = (seen + data)[-4096:]
                if b"retry:" in seen:
                    self.opened.set()
                if b"event: closed" in seen:
                    self.closed_by_server = True
        except OSError:
            pass
        finally:
            self.opened.set()
            self.ended.set()

    def stop(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()


def open_streams(port: int, sessions: list[requests.Session], per_user: int) -> list[Stream]:
    streams = []
    for s in sessions:
        cookie = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
        for _ in range(per_user):
            st = Stream(port, cookie)
            st.start()
            assert st.opened.wait(30), "a stream did not open"
            streams.append(st)
    return streams


def measure(base: str, email: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        try:
            sign_in(base, email)
            times.append(time.perf_counter() - start)
        except (requests.RequestException, AssertionError):
            times.append(float("inf"))
    return times


def cpu_seconds(root: int) -> float:
    """User + system CPU time of `root` and its descendants (the gunicorn workers)."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grew = {root}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(p, 0.0) for p in tree)


def quiet_cpu(name: str, root: int, seconds: float = 10.0) -> None:
    start, began = cpu_seconds(root), time.perf_counter()
    time.sleep(seconds)
    used = cpu_seconds(root) - start
    print(f"{name:9} web CPU without sign-ins: {used / (time.perf_counter() - began) * 1000:5.0f}"
          " ms per second", flush=True)


def summary(name: str, times: list[float]) -> float:
    ok = sorted(times)
    p95 = ok[max(0, int(round(0.95 * len(ok))) - 1)]
    print(f"{name:9} sign-in p50 {statistics.median(ok) * 1000:7.0f} ms   p95 "
          f"{p95 * 1000:7.0f} ms   max {ok[-1] * 1000:7.0f} ms   ({len(ok)} sign-ins, "
          f"load {os.getloadavg()[0]:.2f})", flush=True)
    return p95


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=34)
    ap.add_argument("--per-user", type=int, default=3)
    ap.add_argument("--signins", type=int, default=60)
    ap.add_argument("--command", default=None, help="web command (default: the Procfile's)")
    args = ap.parse_args()
    from tests.servers import RedisServer, free_port, wait_for_port

    tmp = Path(tempfile.mkdtemp(prefix="cm-bench-streams-"))
    with RedisServer() as redis_server:
        database_url = f"sqlite:///{tmp / 'bench.db'}"
        env = {**os.environ, "SECRET_KEY": "bench", "REDIS_URL": redis_server.url,
               "ENGINE_REDIS_URL": redis_server.url, "DATABASE_URL": database_url,
               "DATA_DIR": str(tmp), "RATELIMIT_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
        os.environ.update({k: env[k] for k in ("SECRET_KEY", "REDIS_URL", "DATABASE_URL",
                                               "DATA_DIR")})
        emails = prepare(database_url, max(args.users, 10) + 1)
        probe = emails.pop()  # the user whose sign-ins are timed
        port = free_port()
        command = args.command
        if command is None:
            from tests.reliability.stack import procfile

            command = procfile()["web"]
        env["PORT"] = str(port)
        log = open(tmp / "web.log", "ab")
        web = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_port(port, timeout=60)
            print(f"web: {command}", flush=True)
            measure(base, probe, 3)  # warm up both workers
            quiet_cpu("baseline", web.pid)
            baseline = summary("baseline", measure(base, probe, args.signins))
            sessions = [sign_in(base, e) for e in emails[:args.users]]
            streams = open_streams(port, sessions, args.per_user)
            time.sleep(1)  # every stream opened; a second later, how many are still open
            alive = sum(not s.ended.is_set() for s in streams)
            print(f"open streams: {alive} ({args.users} users × {args.per_user})", flush=True)
            quiet_cpu("loaded", web.pid)
            loaded = summary("loaded", measure(base, probe, args.signins))
            print(f"ratio loaded/baseline p95: {loaded / baseline:.2f}   "
                  f"(SEC-4 target: p95 < 1000 ms → {'OK' if loaded < 1 else 'FAILED'})",
                  flush=True)
            for s in streams:
                s.stop()
            ten = [sign_in(base, e) for e in emails[:10]]
            capped = open_streams(port, ten, 10)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and sum(
                    not s.ended.is_set() for s in capped) > 30:
                time.sleep(0.1)
            alive = sum(not s.ended.is_set() for s in capped)
            told = sum(s.closed_by_server for s in capped)
            print(f"capped: 10 users × 10 streams opened → {alive} open, {told} closed with "
                  "the closed message", flush=True)
            quiet_cpu("capped", web.pid)
            summary("capped", measure(base, probe, args.signins))
            for s in capped:
                s.stop()
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        finally:
            os.killpg(web.pid, 15)
            web.wait(20)
            log.close()


if __name__ == "__main__":
    main()

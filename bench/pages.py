"""Page throughput: `python -m bench.pages` (SCALE-4; figures printed only).

Starts the Procfile's `web` line (gunicorn, its worker class, workers and threads) on the
demo company (throw-away SQLite, Redis, SMTP sink), signs in as the demo administrator
the way a person does (password, e-mailed code), and a bare Flask page rendering a
50-line template under the same gunicorn settings; then measures each page with `wrk`
(Debian's package: 2 threads, 50 connections, 15 s, gzip accepted) and prints req/s,
p50 and p99 next to the bare page's, with the ratio. Signed-in pages target ≥ 0.3× the
bare page (the sign-in page ≥ 0.6×) and p99 ≤ 500 ms. The load average is printed:
compare ratios of one run, not figures of two.

`python -m bench.pages --in-process` measures the same pages without gunicorn or wrk:
the app called through the Flask test client (the whole WSGI stack: server-side session
on Redis, load_user, access, rendering, CSRF token, compression with gzip accepted)
signed in as the demo administrator, and prints the median and p95 wall ms and the CPU
ms of this process per page next to the bare page called the same way, and the Python
function calls, SQL queries and Redis commands per page (the same whatever the machine's
load: compare those between two runs) (`--profile NAME` prints that page's cProfile).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from tests.servers import RedisServer, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ("dashboard", "/", True),
    ("directory", "/annuaire", True),
    ("dir-search", "/annuaire?q=dubois", True),
    ("services", "/services", True),
    ("sites", "/gerer/sites", True),
    ("sign-in", "/connexion", False),
]


def procfile_web(port: int, app: str | None = None) -> list[str]:
    """The Procfile's web command, with its port (and another WSGI app for the bare page)."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    command = line.split(":", 1)[1].strip().replace("${PORT:-5000}", str(port))
    args = shlex.split(command)
    if app:
        args[-1] = app
    return args


def start(args: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "ab"))  # noqa: SIM115 - the child keeps it
    wait_for_port(port, timeout=60)
    return proc


def sign_in(base: str, email: str, password: str, redis_url: str, mail_dir: Path) -> str:
    """The session cookie of the demo administrator, signed in with the e-mailed code."""
    from rq import Queue, SimpleWorker

    from worker.__main__ import QUEUES

    s = requests.Session()

    def csrf(path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + path).text).group(1)

    r = s.post(base + "/connexion", data={"csrf_token": csrf("/connexion"), "email": email,
                                         "password": password}, allow_redirects=False)
    assert r.status_code == 303, r.status_code
    page = s.get(base + "/connexion/verification").text
    if 'name="code"' not in page:
        s.post(base + "/connexion/envoyer-code",
               data={"csrf_token": csrf("/connexion/verification")})
    import redis

    conn = redis.Redis.from_url(redis_url)
    SimpleWorker([Queue(q, connection=conn) for q in QUEUES], connection=conn).work(
        burst=True, with_scheduler=False)
    import email as email_lib

    last = sorted(mail_dir.glob("*.eml"))[-1]
    message = email_lib.message_from_bytes(last.read_bytes())
    text = next(p.get_payload(decode=True).decode() for p in message.walk()
                if p.get_content_type() == "text/plain")
    code = re.search(r"^\s+(\d{6})\s*$", text, re.M).group(1)
    r = s.post(base + "/connexion/verification",
               data={"csrf_token": csrf("/connexion/verification"), "code": code},
               allow_redirects=False)
    assert r.status_code == 303, r.status_code
    assert s.get(base + "/", allow_redirects=False).status_code == 200
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def demo_site(tmp: Path, redis_url: str, **extra: str):
    """The SMTP sink, a migrated SQLite database in `tmp` with the demo loaded (`flask
    db-upgrade`, `flask demo`), and the environment every process of the product gets
    (also set in this one): (env, the demo administrator's e-mail, the sink)."""
    from worker.mailsink import start as start_sink

    smtp_port = free_port()
    sink = start_sink(tmp / "mail", port=smtp_port)
    env = {**os.environ, "SECRET_KEY": "bench-secret-key", "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "DATA_DIR": str(tmp / "data"),
           "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "BASE_URL": "http://127.0.0.1", **extra}
    os.environ.update(env)
    try:
        flask = [str(ROOT / ".venv/bin/flask"), "--app", "webapp.app"]
        subprocess.run([*flask, "db-upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        admin = subprocess.run([*flask, "demo"], cwd=ROOT, env=env, check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
    except BaseException:
        sink.stop()
        raise
    return env, admin, sink


def wrk(url: str, cookie: str | None, seconds: int, threads: int, connections: int,
        nice: int = 0) -> dict:
    args = [*(["nice", "-n", str(nice)] if nice else []),
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
            "--timeout", "10s", "-H", "Accept-Encoding: gzip"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(x) for x in socket.groups()) if socket else 0
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "errors": errors}


def in_process(runs: int, wanted: set[str], profile: str) -> None:
    """Median / p95 ms per page in-process (env and demo already in place)."""
    import cProfile
    import pstats
    import statistics
    import time

    from bench.bare_app import create_app as create_bare
    from webapp.app import create_app
    from webapp.db import db
    from webapp.models import User
    from webapp.services.demo import DEMO_ADMIN_EMAIL

    app = create_app()
    with db.connection_context():
        admin = User.get(User.email == DEMO_ADMIN_EMAIL)
    client = app.test_client()
    with client.session_transaction() as sess:  # what auth.finish stores on sign-in
        sess["_user_id"] = str(admin.id)
        sess["_fresh"] = True
        sess["auth_version"] = admin.auth_version
        sess["started_at"] = time.time()
    bare = create_bare().test_client()
    gzip_ok = {"Accept-Encoding": "gzip"}

    def timed(test_client, path: str, n: int) -> tuple[list[float], float]:
        """Wall ms of each request, and this process's CPU ms per request (what a busy
        machine's other processes do not change: the app's own work)."""
        samples = []
        cpu = time.process_time()
        for _ in range(n):
            start = time.perf_counter()
            response = test_client.get(path, headers=gzip_ok)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        return samples, (time.process_time() - cpu) * 1000 / n

    def p95(samples: list[float]) -> float:
        return sorted(samples)[int(round(0.95 * (len(samples) - 1)))]

    signed_out = app.test_client()
    clients = {name: client if signed else signed_out for name, _path, signed in PAGES}
    for name, path, _signed in PAGES:  # warm-up: templates compiled, caches filled
        timed(clients[name], path, 5)
    timed(bare, "/", 50)
    load = os.getloadavg()
    print(f"in-process (Flask test client, gzip accepted), {runs} runs per page; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    def work(test_client, path: str, n: int = 20) -> tuple[float, float, float]:
        """Python function calls, SQL queries and Redis commands per request: what the
        app does, the same on an idle or a busy machine."""
        import peewee
        import redis

        counts = {"sql": 0, "redis": 0}
        execute_sql, execute_command = peewee.Database.execute_sql, redis.Redis.execute_command

        def counted_sql(self, *a, **k):
            counts["sql"] += 1
            return execute_sql(self, *a, **k)

        def counted_command(self, *a, **k):
            counts["redis"] += 1
            return execute_command(self, *a, **k)

        peewee.Database.execute_sql, redis.Redis.execute_command = counted_sql, counted_command
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            for _ in range(n):
                test_client.get(path, headers=gzip_ok)
            profiler.disable()
        finally:
            peewee.Database.execute_sql, redis.Redis.execute_command = (execute_sql,
                                                                        execute_command)
        calls = pstats.Stats(profiler).total_calls
        return calls / n, counts["sql"] / n, counts["redis"] / n

    base, base_cpu = timed(bare, "/", runs * 2)
    base_med = statistics.median(base)
    base_calls = work(bare, "/")[0]
    print(f"{'page':11} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>8} {'× bare':>7} "
          f"{'CPU × bare':>10} {'calls':>7} {'SQL':>4} {'Redis':>5}")
    print(f"{'bare':11} {base_med:10.2f} {p95(base):8.2f} {base_cpu:8.2f} {1:7.1f} {1:10.1f} "
          f"{base_calls:7.0f} {0:4d} {0:5d}")
    for name, path, _signed in PAGES:
        if wanted and name not in wanted:
            continue
        samples, cpu = timed(clients[name], path, runs)
        calls, sql, rds = work(clients[name], path)
        med = statistics.median(samples)
        print(f"{name:11} {med:10.2f} {p95(samples):8.2f} {cpu:8.2f} {med / base_med:7.1f} "
              f"{cpu / base_cpu:10.1f} {calls:7.0f} {sql:4.0f} {rds:5.0f}", flush=True)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if profile:
        path = dict((n, p) for n, p, _s in PAGES)[profile]
        profiler = cProfile.Profile()
        profiler.enable()
        timed(clients[profile], path, runs)
        profiler.disable()
        profiler.dump_stats(f"/tmp/cm-bench-{profile}.prof")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-process", action="store_true",
                        help="ms per page through the Flask test client, no gunicorn or wrk")
    parser.add_argument("--runs", type=int, default=200, help="with --in-process")
    parser.add_argument("--profile", default="", help="with --in-process: a page to profile")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--wrk-nice", type=int, default=0, metavar="N",
                        help="run wrk under `nice -n N`: on a 2-core machine wrk's two threads "
                             "and the two workers share the cores, and the scheduler's "
                             "pre-emption of a gevent worker (all its connections wait) is a "
                             "large part of p99; with N = 19 the server gets the CPU it asks "
                             "for and the p99 shows the server's own queueing")
    args = parser.parse_args()
    if not args.in_process and not shutil.which("wrk"):
        sys.exit("wrk introuvable : make bench installe le paquet Debian wrk")
    tmp = Path(tempfile.mkdtemp(prefix="cm-bench-pages-"))
    procs: list[subprocess.Popen] = []
    with RedisServer() as redis_server:
        env, admin, sink = demo_site(tmp, redis_server.url)
        try:
            from webapp.services.demo import DEMO_PASSWORD

            if args.in_process:
                in_process(args.runs, {n for n in args.only.split(",") if n}, args.profile)
                return

            web_port, bare_port = free_port(), free_port()
            procs.append(start(procfile_web(web_port), env, web_port, tmp / "web.log"))
            procs.append(start(procfile_web(bare_port, "bench.bare_app:create_app()"), env,
                               bare_port, tmp / "bare.log"))
            base = f"http://127.0.0.1:{web_port}"
            cookie = sign_in(base, admin, DEMO_PASSWORD, redis_server.url, tmp / "mail")
            for _name, path, signed in PAGES:  # warm-up: templates compiled in every worker
                for _ in range(8):
                    requests.get(base + path, headers={"Cookie": cookie} if signed else {})
            wanted = {n for n in args.only.split(",") if n}
            load = os.getloadavg()
            niced = f" under nice -n {args.wrk_nice}" if args.wrk_nice else ""
            print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, gzip{niced}; "
                  f"Procfile web: {' '.join(procfile_web(web_port)[1:-1])}")
            print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
                  f"({os.cpu_count()} CPUs)")
            bare = wrk(f"http://127.0.0.1:{bare_port}/", None, args.seconds, args.threads,
                       args.connections, args.wrk_nice)
            print(f"{'page':11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} target")
            print(f"{'bare':11} {bare['rps']:8.1f} {bare['p50']:8.1f} {bare['p99']:8.1f} "
                  f"{1:6.2f}")
            for name, path, signed in PAGES:
                if wanted and name not in wanted:
                    continue
                got = wrk(base + path, cookie if signed else None, args.seconds, args.threads,
                          args.connections, args.wrk_nice)
                target = 0.3 if signed else 0.6
                ratio = got["rps"] / bare["rps"]
                ok = "ok" if ratio >= target and got["p99"] <= 500 else "MISSED"
                errors = f" ({got['errors']} errors)" if got["errors"] else ""
                print(f"{name:11} {got['rps']:8.1f} {got['p50']:8.1f} {got['p99']:8.1f} "
                      f"{ratio:6.2f} ≥{target} p99≤500 {ok}{errors}", flush=True)
            load = os.getloadavg()
            print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)
            sink.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

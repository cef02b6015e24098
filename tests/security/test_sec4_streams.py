"""SEC-4: a user holds at most 3 open switchboard streams: opening a 4th closes the oldest
with a message the page understands (a `closed` event: switchboard.js shows it in
#sb-closed and closes its EventSource); other users' streams are unaffected. (Capacity
under load: bench/streams.py, README.)"""

from __future__ import annotations

from tests.waiting import wait_until


def _open(b):
    response = b.client.get("/standard/flux", buffered=False)
    assert response.status_code == 200
    body = iter(response.response)
    assert b"retry" in next(body)
    return response, body


def _next_event(body) -> bytes:
    chunk = b""
    while not chunk.strip() or chunk.startswith(b":"):
        chunk = next(body)
    return chunk


def test_sec4_fourth_stream_closes_the_oldest(demo, admin, new_browser, redis_conn):
    lucas = new_browser()
    lucas.sign_in(demo.user_email, demo.password)
    others = _open(lucas)
    streams = [_open(admin) for _ in range(3)]
    assert redis_conn.zcard(f"sse:open:{_user_id(demo.admin_email)}") == 3
    fourth = _open(admin)
    # The oldest says why and ends; the page swaps the message and closes (sse-close).
    first_response, first_body = streams[0]
    chunk = _next_event(first_body)
    while b"event: closed" not in chunk:
        chunk = _next_event(first_body)
    assert b"3 au plus" in chunk
    assert list(first_body) == []  # the stream is over
    # The three newest and the other user's stream are still registered and alive.
    assert redis_conn.zcard(f"sse:open:{_user_id(demo.admin_email)}") == 3
    assert redis_conn.zcard(f"sse:open:{_user_id(demo.user_email)}") == 1
    for response, _body in streams[1:] + [fourth, others]:
        response.close()
    wait_until(lambda: redis_conn.zcard(f"sse:open:{_user_id(demo.admin_email)}") == 0)


def test_sec4_the_page_understands_the_closing_message(admin):
    page = admin.client.get("/standard").get_data(as_text=True)
    assert 'id="sb-closed"' in page
    script = admin.client.get("/static/switchboard.js").get_data(as_text=True)
    assert 'addEventListener("closed"' in script and "source.close()" in script


def _user_id(email):
    from webapp.db import db
    from webapp.models import User

    with db.connection_context():
        return User.get(User.email == email).id


def test_sec4_wallboard_understands_the_closing_message(admin):
    """The wallboard (/standard/mur) opens the same stream: evicted, it shows the message
    in its own #sb-closed box, and the message leads back to the wallboard."""
    page = admin.client.get("/standard/mur").get_data(as_text=True)
    assert 'id="sb-closed"' in page and "switchboard.js" in page
    walls = []
    for _ in range(4):
        response = admin.client.get("/standard/flux?vue=mur", buffered=False)
        body = iter(response.response)
        assert b"retry" in next(body)
        walls.append((response, body))
    chunk = _next_event(walls[0][1])
    while b"event: closed" not in chunk:
        chunk = _next_event(walls[0][1])
    assert b"3 au plus" in chunk and b'href="/standard/mur"' in chunk
    for response, _body in walls[1:]:
        response.close()


def test_sec4_sign_in_answers_while_42_streams_are_held(database_url, redis_url, tmp_path):
    """The Procfile's real web line (gunicorn, gevent worker): 14 users hold 3 streams
    each (42, more than the 2 × 8 threads the old gthread line had); the sign-in page and
    a sign-in still answer, and a 4th stream of one user closes its oldest with the
    `closed` message. (Timings under load: bench/streams.py, README "Capacity".)"""
    import requests

    from bench.streams import open_streams, prepare, sign_in
    from tests.reliability.stack import Stack

    emails = prepare(database_url, 15)
    stack = Stack(tmp_path, database_url, redis_url)
    streams = []
    try:
        stack.start("web")
        sessions = [sign_in(stack.url, email) for email in emails[:14]]
        streams = open_streams(stack.port, sessions, 3)
        assert sum(not s.ended.is_set() for s in streams) == 42
        assert requests.get(stack.url + "/connexion", timeout=30).status_code == 200
        sign_in(stack.url, emails[14])  # password accepted: 303 (asserted inside)
        streams += open_streams(stack.port, sessions[:1], 1)
        wait_until(lambda: streams[0].ended.is_set(), timeout=30)
        assert streams[0].closed_by_server  # told why, in the page's own words
        assert sum(not s.ended.is_set() for s in streams) == 42
    finally:
        for s in streams:
            s.stop()
        stack.stop()


def test_sec4_a_stream_refresh_reads_the_lines_in_one_query(demo, db_conn, caplog):
    """Every open stream re-reads its numbers from the database every few seconds: the
    lines' holders come with the lines (one join), not one query per line, so adding
    lines does not add queries (bench/streams.py measured the per-line queries as most
    of the workers' time with 100 streams open)."""
    import logging

    from webapp.models import Contact, Service
    from webapp.services import switchboard as svc
    from webapp.services.accounts import default_site

    def queries() -> int:
        boards = svc.boards(list(Service.select().where(
            (Service.account == demo.account) & (Service.kind == "welcome"))))
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            svc.refresh(boards)
        return sum(1 for r in caplog.records if r.name == "peewee")

    before = queries()
    site = default_site(demo.account)
    for n in range(20):
        holder = Contact.create(account=demo.account, site=site, first_name=f"Agent{n}",
                                last_name="Banc")
        Service.create(account=demo.account, site=site, kind="fixed",
                       number=f"+3319999{n:04d}", holder=holder)
    assert queries() == before
    assert svc.line_names(demo.account.id)["+33199990007"] == "Agent7 Banc"


GEVENT_CHECK = """
import sys
from gevent import monkey
monkey.patch_all()
import gevent
from webapp import serving
from webapp.services import passwords

if sys.argv[1] == "worker":
    serving.post_worker_init(None)
stored = passwords.hash_password("une phrase de passe")
ticks = [0]

def ticker():
    while True:
        ticks[0] += 1
        gevent.sleep(0.001)

gevent.spawn(ticker)
gevent.sleep(0.01)
before = ticks[0]
right = passwords.verify_password(stored, "une phrase de passe")
during = ticks[0] - before
wrong = passwords.verify_password(stored, "une autre phrase")
print(right, wrong, during)
"""


def test_sec4_a_password_check_leaves_the_other_greenlets_running():
    """In the gevent web worker (webapp/serving.py) argon2 runs in the hub's thread pool:
    other greenlets (open streams, other requests) keep running during a sign-in's
    password check instead of freezing for its ~100 ms of CPU. Without the worker's
    setup, the same check freezes the loop (nothing else ran): that is what is fixed."""
    import subprocess
    import sys
    from pathlib import Path

    def run(mode: str) -> list[str]:
        out = subprocess.run([sys.executable, "-c", GEVENT_CHECK, mode], check=True,
                             capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[2], timeout=60)
        return out.stdout.split()

    right, wrong, during = run("worker")
    assert (right, wrong) == ("True", "False")  # same answers, exceptions carried back
    assert int(during) > 0
    assert run("in-place")[2] == "0"


def test_sec4_a_closed_tab_frees_its_stream_at_once(database_url, redis_url, redis_conn,
                                                     tmp_path):
    """The Procfile's web line: a browser that hangs up (tab closed) ends its stream on
    the server within a second or so — its slot freed, its polling stopped — rather than
    at the next failed write, a heartbeat later (set to 5 minutes here)."""
    from bench.streams import open_streams, prepare, sign_in
    from tests.reliability.stack import Stack
    from webapp.db import db
    from webapp.models import User

    emails = prepare(database_url, 2)
    with db.connection_context():
        ids = [User.get(User.email == e).id for e in emails]
    stack = Stack(tmp_path, database_url, redis_url, SSE_HEARTBEAT_S="300")
    streams = []
    try:
        stack.start("web")
        sessions = [sign_in(stack.url, email) for email in emails]
        streams = open_streams(stack.port, sessions, 2)
        assert [redis_conn.zcard(f"sse:open:{i}") for i in ids] == [2, 2]
        for s in streams[:2]:  # the first user closes both tabs
            s.stop()
        wait_until(lambda: redis_conn.zcard(f"sse:open:{ids[0]}") == 0, timeout=20)
        assert redis_conn.zcard(f"sse:open:{ids[1]}") == 2  # the other user's stay open
        assert not any(s.ended.is_set() for s in streams[2:])
    finally:
        for s in streams:
            s.stop()
        stack.stop()


def test_sec4_open_streams_of_a_process_share_one_read_of_the_engine(redis_conn):
    """50 open pages watching the same number cost one HMGET per poll interval, not 50
    (SharedSnapshots, what the web view uses), and each still sees a change at its next
    poll."""
    from tests.switchboard.test_swb_board import STATE, snapshot
    from webapp.services import switchboard_stream as live
    from webapp.services.switchboard import Board

    number = "+33100000900"
    redis_conn.hset(STATE, number, snapshot(number, waiting=[("w1", "+33612345678", 1000)]))
    ticks = {"t": 0.0}
    shared = live.SharedSnapshots(clock=lambda: ticks["t"])

    def render(_board, v):
        return {"q": f'<i id="q">{len(v["waiting"])} en attente</i>'}

    def hmgets() -> int:
        return redis_conn.info("commandstats").get("cmdstat_hmget", {}).get("calls", 0)

    streams = [live.changes(redis_conn, 0, [Board(1, number, "Accueil")], render,
                            heartbeat_s=0, sleep=lambda _s: None, clock=lambda: ticks["t"],
                            snapshots=lambda numbers: shared.read("test", redis_conn, 0,
                                                                  numbers))
               for _ in range(50)]
    before = hmgets()
    assert all(next(s).startswith("retry:") for s in streams)
    assert all("1 en attente" in next(s) for s in streams)  # the full message
    assert hmgets() - before == 1
    redis_conn.hset(STATE, number, snapshot(number, waiting=[("w1", "+33612345678", 1000),
                                                             ("w2", "+33698765432", 500)]))
    ticks["t"] += live.POLL_S
    before = hmgets()
    assert all("2 en attente" in next(s) for s in streams)  # the next poll of each
    assert hmgets() - before == 1
    for s in streams:
        s.close()

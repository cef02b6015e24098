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

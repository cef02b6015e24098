"""SCALE-4: reading pages costs one Redis read of the session, not a read and a write; the
idle clock (SEC-8) is kept to the minute, so a session is written back at most once a
minute of activity (and still ends after its idle limit, tests/security)."""

from __future__ import annotations

import datetime as dt


def stored_sessions(redis_conn) -> dict[bytes, tuple[bytes, int]]:
    """Every stored session: its bytes and its remaining lifetime (ms)."""
    return {key: (redis_conn.get(key), redis_conn.pttl(key))
            for key in redis_conn.keys("session:*")}


def test_scale4_pages_read_within_a_minute_leave_the_session_unwritten(demo, admin, redis_conn,
                                                                       time_machine):
    start = dt.datetime.now(dt.UTC)
    time_machine.move_to(start, tick=False)
    assert admin.client.get("/").status_code == 200
    before = stored_sessions(redis_conn)
    assert len(before) == 1
    for seconds, page in ((20, "/annuaire"), (40, "/services"), (59, "/")):
        time_machine.move_to(start + dt.timedelta(seconds=seconds), tick=False)
        response = admin.client.get(page)
        assert response.status_code == 200
        assert "cm_session" not in response.headers.get("Set-Cookie", "")
    after = stored_sessions(redis_conn)
    assert after.keys() == before.keys()
    for key, (data, ttl) in after.items():
        assert data == before[key][0]  # not rewritten…
        assert ttl <= before[key][1]  # …nor its expiry renewed
    # a minute after the last recorded action, the next page records it (and renews both)
    time_machine.move_to(start + dt.timedelta(seconds=61), tick=False)
    response = admin.client.get("/annuaire")
    assert response.status_code == 200 and "cm_session=" in response.headers["Set-Cookie"]
    later = stored_sessions(redis_conn)
    assert later.keys() == before.keys()
    for key, (data, ttl) in later.items():
        assert data != before[key][0] and ttl > after[key][1]

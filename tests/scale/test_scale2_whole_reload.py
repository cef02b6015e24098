"""SCALE-2 with the database builder: a whole `config.reload` is read by the engine's
helper process (engine/prepare.py) from the database, and the change reaches the
running engine of the account's shard while calls go on."""

from __future__ import annotations

from itertools import count

from tests.scale.conftest import caught_up, entries, make_account, send
from tests.waiting import wait_until


def test_scale2_whole_reload_from_the_database_reaches_the_running_engine(
        app, db_conn, cluster_conn, engines):
    from webapp.models import WelcomeProfile

    conn = cluster_conn
    _a, welcome, (line,), _ = make_account("Alpha", "+33140000", agents=1)
    engines.start(0)
    send(conn, 0, type="line.registered", line=line.number)
    wait_until(lambda: caught_up(conn, 0), message="engine start")
    WelcomeProfile.update(ring_s=30).where(WelcomeProfile.service == welcome.id).execute()
    send(conn, 0, type="config.reload")
    calls = count()

    def rings_for_30_s() -> bool:
        call = f"A-{next(calls)}"
        send(conn, 0, type="call.arrived", call=call, number=welcome.number, caller="+33611")
        ring = wait_until(lambda: [e for e in entries(conn, "acd:{0}:out")
                                 if e["type"] == "ring" and e["call"] == call],
                          message=f"{call} rings")
        send(conn, 0, type="call.ended", call=call, by="caller")
        wait_until(lambda: caught_up(conn, 0), message=f"{call} ended")
        return ring[0]["timeout_s"] == "30"

    wait_until(rings_for_30_s, message="the new ring time in force")
    err = (engines.logs / "engine-0.err").read_text()
    assert "refused" not in err, err

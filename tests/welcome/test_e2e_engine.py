"""End to end on real Redis with the engine as a subprocess building its document from the
database (WN-4 reload, SWB-1 via the SSE endpoint, SWB-2 actions, SWB-3 statistics that
match the engine's log exactly, the calllog worker's idempotence and crash safety)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.waiting import wait_until

ROOT = Path(__file__).parents[2]
IN, LOG, STATE = "acd:{0}:in", "acd:{0}:log", "acd:{0}:state"


@pytest.fixture
def engine(redis_url, database_url, tmp_path, db_conn, demo):
    """`python -m engine --clock events` without --config: the document comes from the DB."""
    err = open(tmp_path / "engine.err", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "--redis-url", redis_url, "--clock", "events"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": database_url})
    yield proc
    proc.terminate()
    proc.wait(10)
    err.close()


def caught_up(conn) -> bool:
    if not conn.exists(IN):
        return False
    groups = conn.xinfo_groups(IN)
    last = conn.xinfo_stream(IN)["last-generated-id"]
    return bool(groups) and groups[0]["pending"] == 0 and groups[0]["last-delivered-id"] == last


def log_entries(conn) -> list[tuple[str, dict[str, str]]]:
    return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()})
            for i, f in conn.xrange(LOG)]


def send(conn, **fields) -> None:
    conn.xadd(IN, {k: str(v) for k, v in fields.items()})


def test_wn4_an_edit_in_the_app_reaches_the_running_engine(admin, welcome, ids, redis_conn,
                                                           engine):
    from tests.welcome.test_wn_config import entry, queue_form

    t0 = int(time.time() * 1000)
    send(redis_conn, type="clock", ts=t0)
    wait_until(lambda: caught_up(redis_conn), message="engine start")
    # size 5 (demo): two calls wait, nobody is registered
    send(redis_conn, type="call.arrived", call="a1", number=welcome.number, caller="+33611111111",
         ts=t0 + 10)
    send(redis_conn, type="call.arrived", call="a2", number=welcome.number, caller="+33622222222",
         ts=t0 + 20)
    wait_until(lambda: caught_up(redis_conn), message="two arrivals")
    assert not [e for _, e in log_entries(redis_conn) if e["type"] == "rejected"]
    # the administrator shrinks the queue to 1 in the browser: config.reload is published
    r = admin.post(f"/configurer/numeros-accueil/{welcome.id}/profils/{entry(welcome).id}",
                   queue_form(ids, size="1"))
    assert r.status_code == 303
    send(redis_conn, type="call.arrived", call="a3", number=welcome.number, caller="+33633333333",
         ts=t0 + 30)
    wait_until(lambda: caught_up(redis_conn), message="third arrival")
    rejected = [e for _, e in log_entries(redis_conn) if e["type"] == "rejected"]
    assert [e["call"] for e in rejected] == ["a3"] and rejected[0]["reason"] == "queue_full"


def read_until(body, needle: str, limit: int = 400) -> str:
    seen = ""
    for _ in range(limit):
        chunk = next(body)
        seen += chunk.decode() if isinstance(chunk, bytes) else chunk
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} never came; got {seen[-500:]!r}")


def test_swb1_swb2_switchboard_stream_shows_changes_and_actions_reach_the_engine(
        admin, welcome, redis_conn, engine):
    t0 = int(time.time() * 1000)
    for line in ("+33100000101", "+33100000102"):
        send(redis_conn, type="line.registered", line=line, ts=t0)
    wait_until(lambda: redis_conn.hget(STATE, welcome.number), message="first snapshot")
    response = admin.client.get("/standard/flux", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    body = iter(response.response)
    first = read_until(body, "sb-now")  # the full state, once per connection
    assert "event: full" in first and f'id="n{welcome.id}-a-_33100000101"' in first
    assert "Disponible" in first
    # a call arrives: both agents are offered it one at a time (ringing) — the stream
    # carries the call's item, and the ringing agent's item
    send(redis_conn, type="call.arrived", call="k1", number=welcome.number,
         caller="+33612345678", ts=t0 + 100)
    seen = read_until(body, "06 12 34 56 78")
    assert "event: u" in seen and f'id="n{welcome.id}-c-k1"' in seen
    # only what changed travels: a third agent registers, the call's item is not re-sent
    send(redis_conn, type="line.registered", line="+33100000103", ts=t0 + 200)
    seen = read_until(body, "+33100000103")
    assert f'id="n{welcome.id}-c-k1"' not in seen
    assert f'id="n{welcome.id}-a-_33100000101"' not in seen
    # SWB-2: pick the ringing call up on Claire's line from the page
    from webapp.models import Service

    claire = Service.get(Service.number == "+33100000101")
    r = admin.post(f"/standard/{welcome.id}/appels/k1/decrocher", {"line": str(claire.id)},
                   token_from="/standard", headers={"HX-Request": "true",
                                                    "HX-Target": "sb-action"})
    assert r.status_code == 200 and "Demande envoyée" in r.data.decode()
    wait_until(lambda: caught_up(redis_conn), message="pickup")
    answered = [e for _, e in log_entries(redis_conn) if e["type"] == "answered"]
    assert answered and answered[0]["call"] == "k1" and answered[0]["line"] == "+33100000101"
    seen = read_until(body, "En communication</span>")
    # hold / resume the bridged call
    r = admin.post(f"/standard/{welcome.id}/appels/k1/attente", token_from="/standard")
    assert r.status_code == 303
    read_until(body, "<strong>En attente</strong>")
    entries = [f for _, f in redis_conn.xrange("acd:{0}:in")]
    kinds = [e[b"type"].decode() for e in entries]
    assert "call.pickup" in kinds and "call.hold" in kinds
    # an action on a call the number does not have is refused, nothing is sent
    before = redis_conn.xlen(IN)
    r = admin.post(f"/standard/{welcome.id}/appels/ghost/attente", token_from="/standard")
    assert r.status_code == 409 and redis_conn.xlen(IN) == before
    response.close()


def test_swb2_transfer_validates_the_target(admin, welcome, redis_conn, engine):
    t0 = int(time.time() * 1000)
    send(redis_conn, type="call.arrived", call="t1", number=welcome.number,
         caller="+33612345678", ts=t0)
    wait_until(lambda: b"t1" in (redis_conn.hget(STATE, welcome.number) or b""), message="waiting")
    url = f"/standard/{welcome.id}/appels/t1/transferer"
    r = admin.post(url, {"to": "12"}, token_from="/standard")
    assert r.status_code == 400 and "numéro valide" in r.data.decode()
    assert 'value="12"' in r.data.decode()
    r = admin.post(url, {"to": "06 98 76 54 32"}, token_from="/standard")
    assert r.status_code == 303
    wait_until(lambda: caught_up(redis_conn), message="transfer")
    out = [e for _, e in log_entries(redis_conn) if e["type"] == "transferred"]
    assert out and out[0]["to"] == "+33698765432"


def test_swb3_statistics_match_the_engine_log_exactly(admin, welcome, redis_conn, engine,
                                                      db_conn):
    from engine.config import parse
    from engine.scenario import scenario
    from engine.state import State
    from webapp.models import CallLogEntry
    from webapp.services import stats
    from webapp.services.engine_config import build_document
    from worker.calllog import AcdLogHandler, CallLog, handlers

    config = parse(build_document())
    t0 = int(time.time() * 1000) - 3_600_000
    events = scenario(config, 120, t0, State(config, 0, t0), seed=7)
    pipe = redis_conn.pipeline(transaction=False)
    for ev in events:
        pipe.xadd(IN, ev)
    pipe.execute()
    wait_until(lambda: caught_up(redis_conn), timeout=120, message="scenario")
    log = log_entries(redis_conn)
    assert len(log) > 120

    # crash safety: half the log is copied and committed but never acknowledged
    redis_conn.xgroup_create(LOG, "calllog", id="0", mkstream=True)
    half = redis_conn.xreadgroup("calllog", "calllog-1", {LOG: ">"}, count=len(log) // 2)
    from worker.calllog import _decode

    AcdLogHandler(0).handle(_decode(half[0][1]))
    CallLog(redis_conn, handlers(0)).work(burst=True)
    CallLog(redis_conn, handlers(0)).work(burst=True)  # again: nothing new, nothing doubled
    rows = list(CallLogEntry.select().order_by(CallLogEntry.ts_ms, CallLogEntry.entry_id))
    assert sorted(r.entry_id for r in rows) == sorted(i for i, _ in log)
    assert redis_conn.xpending(LOG, "calllog")["pending"] == 0

    # the statistics page, for a custom period covering the log, equals the log's own counts
    zone = ZoneInfo("Europe/Paris")
    days = sorted({dt.datetime.fromtimestamp(int(e["ts"]) / 1000, zone).date() for _, e in log})
    outcomes = Counter(e["type"] for _, e in log if e["type"] in stats.OUTCOMES)
    waits = sorted(int(e["wait_ms"]) for _, e in log if e["type"] == "answered")
    per_agent = Counter(e["line"] for _, e in log if e["type"] == "answered")
    ring = Counter()
    talk = Counter()
    for _, e in log:
        if e["type"] == "offered":
            ring[e["line"]] += int(e["ring_ms"])
        if e["type"] == "completed":
            talk[e["line"]] += int(e["talk_ms"])
    period = stats.period("custom", zone, start=days[0].isoformat(), end=days[-1].isoformat())
    s = stats.compute(welcome, period, zone)
    assert s.received == sum(outcomes.values()) == len({e["call"] for _, e in log
                                                        if e["type"] in stats.OUTCOMES})
    assert {k: v for k, v in s.counts.items() if v} == dict(outcomes)
    assert s.avg_wait_ms == round(sum(waits) / len(waits))
    assert s.p90_wait_ms == waits[-(-len(waits) * 9 // 10) - 1]
    assert s.within_20s == sum(1 for w in waits if w <= 20_000)
    assert {a.line: a.answered for a in s.agents if a.answered} == dict(per_agent)
    assert {a.line: a.ring_ms for a in s.agents if a.ring_ms} == {k: v for k, v in ring.items()
                                                                   if v}
    assert {a.line: a.talk_ms for a in s.agents if a.talk_ms} == {k: v for k, v in talk.items()
                                                                   if v}
    r = admin.client.get(f"/configurer/statistiques/{welcome.id}?periode=custom"
                         f"&du={days[0]}&au={days[-1]}")
    page = r.data.decode()
    assert f'<dd id="kpi-received">{s.received}</dd>' in page
    assert f'<dd id="kpi-answered">{outcomes["answered"]}</dd>' in page
    assert "<svg" in page and "<script" not in page.split("<main")[1]
    csv = admin.client.get(f"/configurer/statistiques/{welcome.id}/export.csv?periode=custom"
                           f"&du={days[0]}&au={days[-1]}")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    text = csv.data.decode("utf-8-sig")
    assert f"Appels reçus;{s.received}\r\n" in text
    assert f"Répondus;{outcomes['answered']}\r\n" in text

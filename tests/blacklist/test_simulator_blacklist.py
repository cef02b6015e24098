"""LINE-4 on the PBX side: the simulator (engine/simulator.py) reads
`pbx:blacklist:{line}` and refuses an outside call from a blocked caller (or an anonymous
one when anonymous callers are blocked) with a `blocked` CDR instead of ringing; the CDR
reaches the line's history through the real `calllog` consumer."""

from __future__ import annotations

from pathlib import Path

import redis

from engine.config import load_file
from engine.simulator import Simulator
from webapp.models import Service
from webapp.models.history import CallRecord
from worker.cdr import CdrConsumer

PARIS = "+33100000101"
ROOT_CONFIG = Path(__file__).resolve().parents[2] / "engine" / "demo_config.json"


def _sim(conn, **kw) -> Simulator:
    return Simulator(conn, load_file(ROOT_CONFIG), seed=7, external_per_hour=3600, **kw)


def _entries(conn, key: str) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _i, f in conn.xrange(key)]


def _outside_calls(sim: Simulator, line: str, n: int) -> None:
    for _ in range(n):
        sim.busy_lines.discard(line)  # each call finds the line free
        sim.external(line)


def test_line4_simulator_blocks_listed_and_anonymous_callers(admin, demo, db_conn, redis_url):
    line = Service.get(Service.number == PARIS)
    assert admin.post(f"/services/{line.id}/liste-noire", {"number": "04 78 00 00 01"}) \
        .status_code == 303
    assert admin.post(f"/services/{line.id}/liste-noire/anonymes", {"anonymous": "1"}) \
        .status_code == 303
    conn = redis.Redis.from_url(redis_url)
    sim = _sim(conn, nuisance=1.0)  # every outside caller of this line is a blocked one
    _outside_calls(sim, PARIS, 40)
    cdrs = _entries(conn, "pbx:cdr")
    blocked = [c for c in cdrs if c["status"] == "blocked"]
    assert blocked and sim.stats["blocked"] == len(blocked)
    assert {c["peer"] for c in blocked} == {"+33478000001", "anonymous"}
    assert all(c["line"] == PARIS and c["direction"] == "in" and c["answered_ms"] == ""
               for c in blocked)
    # A blocked call never rang the line: no line.busy for it, and outgoing calls still go.
    busy = [e for e in _entries(conn, "acd:{0}:in") if e["type"] == "line.busy"]
    assert len(busy) == 40 - len(blocked) == sim.stats["external"]
    # Through the real consumer into the line's history, shown as « Bloqué ».
    consumer = CdrConsumer(conn, "calllog-sim")
    consumer.start()
    consumer.drain()
    conn.close()
    assert CallRecord.select().where((CallRecord.service == line)
                                     & (CallRecord.status == "blocked")).count() == len(blocked)
    page = admin.client.get(f"/services/{line.id}/historique?type=blocked")
    assert "Bloqué" in page.get_data(as_text=True) and "Anonyme" in page.get_data(as_text=True)


def test_line4_simulator_rings_when_the_caller_is_not_blocked(demo, db_conn, redis_url):
    conn = redis.Redis.from_url(redis_url)
    conn.delete(f"pbx:blacklist:{PARIS}")
    sim = _sim(conn)
    _outside_calls(sim, PARIS, 20)
    assert sim.stats["blocked"] == 0 and sim.stats["external"] == 20
    assert not [c for c in _entries(conn, "pbx:cdr") if c["status"] == "blocked"]
    # Anonymous callers are refused only when the line blocks them.
    conn.hset(f"pbx:blacklist:{PARIS}", "+33478000001", "1")
    assert sim.is_blocked(PARIS, "+33478000001") and not sim.is_blocked(PARIS, "anonymous")
    conn.hset(f"pbx:blacklist:{PARIS}", "anonymous", "1")
    assert sim.is_blocked(PARIS, "anonymous") and sim.is_blocked(PARIS, "")
    conn.close()

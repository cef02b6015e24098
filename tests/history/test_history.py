"""LINE-5: pbx:cdr → call history (idempotent across restarts), totals, filters, CSV, usage."""

from __future__ import annotations

import codecs
import datetime as dt
import re

import redis

from webapp.models import Service
from webapp.models.history import CallRecord
from worker.cdr import GROUP, STREAM, CdrConsumer

PARIS = "+33100000101"


def _paris_records() -> int:
    """Rows of the line the scenario calls (the demo has a history on other lines)."""
    return CallRecord.select().join(Service).where(Service.number == PARIS).count()


def _scenario(cdrs) -> None:
    cdrs.add(PARIS, "in", "+33478000001", "answered", talk_s=125)
    cdrs.add(PARIS, "in", "+33478000002", "answered", talk_s=30)
    cdrs.add(PARIS, "out", "+33612345678", "answered", talk_s=61)
    cdrs.add(PARIS, "out", "+33612345679", "busy")
    cdrs.add(PARIS, "in", "anonymous", "missed")
    cdrs.add(PARIS, "in", "+33478000003", "blocked")
    cdrs.add("+33999999999", "in", "+33478000004", "answered", talk_s=10)  # not ours


def test_line5_cdr_consumer_idempotent_across_restart(demo, db_conn, redis_url, cdrs):
    _scenario(cdrs)
    conn = redis.Redis.from_url(redis_url)
    first = CdrConsumer(conn, "calllog-1", batch=3)
    first.start()
    # Read one batch as a crashed process would: rows stored, never acknowledged.
    entries = conn.xreadgroup(GROUP, "calllog-1", {STREAM: ">"}, count=3)[0][1]
    from webapp.services.call_history import ingest

    with db_conn.atomic():
        assert ingest(entries) == (3, 0)
    assert _paris_records() == 3
    # Restart: the pending entries are replayed first, then the rest; no duplicate row.
    second = CdrConsumer(conn, "calllog-1", batch=3)
    second.start()
    second.drain()
    assert _paris_records() == 6  # the unknown line is ignored
    assert conn.xpending(STREAM, GROUP)["pending"] == 0
    # A third start (another restart) changes nothing.
    third = CdrConsumer(conn, "calllog-1")
    third.start()
    third.drain()
    assert _paris_records() == 6
    conn.close()


def _copy_cdrs(redis_url: str, consumer: str):
    """Everything on pbx:cdr copied by a fresh calllog consumer; the Paris line."""
    conn = redis.Redis.from_url(redis_url)
    reader = CdrConsumer(conn, consumer)
    reader.start()
    reader.drain()
    conn.close()
    return Service.get(Service.number == PARIS)


def test_line5_history_totals_match_the_cdrs_sent(admin, demo, db_conn, redis_url, cdrs):
    _scenario(cdrs)
    line = _copy_cdrs(redis_url, "calllog-t")
    page = admin.client.get(f"/services/{line.id}/historique")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ours = [c for c in cdrs.sent if c["line"] == PARIS]

    def total(kind):
        return int(re.search(rf'data-total="{kind}">(\d+)<', html).group(1))

    assert total("in") == sum(c["direction"] == "in" and c["status"] == "answered" for c in ours)
    assert total("out") == sum(c["direction"] == "out" for c in ours)
    assert total("missed") == 1
    assert total("blocked") == 1
    assert "Anonyme" in html and "04 78 00 00 01" in html
    assert "2\xa0min 5\u202fs" in html
    # Usage: minutes rounded up per answered call (125 s → 3, 30 s → 1, 61 s → 2).
    assert re.search(r'id="usage-0".*?data-usage="minutes">6 min<', html, re.S)
    recorded = sum(r.duration_s for r in CallRecord.select().where(CallRecord.service == line))
    assert recorded == sum(c["talk_s"] for c in ours)
    # Filter: missed only.
    missed = admin.client.get(f"/services/{line.id}/historique?type=missed").get_data(
        as_text=True)
    assert missed.count("<tr><td>") == 1
    # A bad date keeps the typed filter and explains in French.
    bad = admin.client.get(f"/services/{line.id}/historique?du=31/02/2024")
    assert bad.status_code == 400
    assert "Date invalide" in bad.get_data(as_text=True)
    # CSV export: BOM, `;`, one line per call of the period.
    export = admin.client.get(f"/services/{line.id}/historique/export.csv")
    assert export.data.startswith(codecs.BOM_UTF8)
    lines = export.data.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0] == "date;heure;sens;correspondant;statut;duree_s;ligne"
    assert len(lines) == 1 + len(ours)


def test_line5_history_paginated_and_period_filtered(admin, demo, db_conn, redis_url, cdrs):
    old = int(dt.datetime(2020, 1, 15, 12, tzinfo=dt.UTC).timestamp() * 1000)
    for i in range(60):
        cdrs.add(PARIS, "in", f"+334780001{i:02d}", "answered", talk_s=10, started_ms=old + i)
    cdrs.add(PARIS, "out", "+33612345678", "answered", talk_s=10)
    line = _copy_cdrs(redis_url, "calllog-p")
    current = admin.client.get(f"/services/{line.id}/historique").get_data(as_text=True)
    assert current.count("<tr><td>") == 1  # the default period is the current month
    january = admin.client.get(f"/services/{line.id}/historique?du=2020-01-01&au=2020-01-31")
    html = january.get_data(as_text=True)
    assert html.count("<tr><td>") == 50
    assert "Page 1 sur 2" in html
    page2 = admin.client.get(f"/services/{line.id}/historique?du=2020-01-01&au=2020-01-31"
                             "&page=2").get_data(as_text=True)
    assert page2.count("<tr><td>") == 10


def test_line5_restricted_user_cannot_read_paris_history(new_browser, demo, db_conn):
    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    paris = Service.get(Service.number == PARIS)
    lyon = Service.get(Service.number == "+33100000102")
    assert b.client.get(f"/services/{paris.id}/historique").status_code == 404
    assert b.client.get(f"/services/{paris.id}/historique/export.csv").status_code == 404
    assert b.client.get(f"/services/{lyon.id}/historique").status_code == 200


def test_line5_cdrs_consumed_by_the_calllog_process(demo, db_conn, redis_url, cdrs):
    """The same `python -m worker.calllog` process reads `pbx:cdr` (second handler)."""
    from worker.calllog import CallLog, handlers

    _scenario(cdrs)
    conn = redis.Redis.from_url(redis_url)
    CallLog(conn, handlers(0)).work(burst=True)
    assert _paris_records() == 6
    CallLog(conn, handlers(0)).work(burst=True)  # restart: nothing twice
    assert _paris_records() == 6
    conn.close()

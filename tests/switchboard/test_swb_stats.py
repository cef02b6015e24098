"""Statistics grow (SWB-8 / SWB-3): per-agent talk, rest and pause time, service level
against each queue's own threshold, short abandons apart, and the weekly e-mailed report
(RQ scheduler, CSV attached, link to the page) that a user subscribes to."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
CLAIRE, LUCAS = "+33100000101", "+33100000102"


def at(day: dt.date, hh: int, mm: int, ss: int = 0) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=PARIS).timestamp()
               * 1000)


def log_day(demo, welcome, day: dt.date) -> None:
    from webapp.models import CallLogEntry

    rows = [
        # Claire answers after 12 s (queue threshold 15 s: within), talks 60 s, rests 10 s
        dict(type="answered", call="a", line=CLAIRE, wait_ms=12_000, ts_ms=at(day, 9, 0)),
        dict(type="completed", call="a", line=CLAIRE, talk_ms=60_000, ts_ms=at(day, 9, 1)),
        # Lucas answers after 18 s: beyond 15 s
        dict(type="answered", call="b", line=LUCAS, wait_ms=18_000, ts_ms=at(day, 9, 2)),
        dict(type="completed", call="b", line=LUCAS, talk_ms=30_000, ts_ms=at(day, 9, 3)),
        # Claire takes the next call 4 s after the end of "a": her rest is cut to 4 s
        dict(type="answered", call="c", line=CLAIRE, wait_ms=1_000, ts_ms=at(day, 9, 1, 4)),
        dict(type="completed", call="c", line=CLAIRE, talk_ms=20_000, ts_ms=at(day, 9, 1, 24)),
        dict(type="abandoned", call="d", wait_ms=3_000, caller="+33611111111",
             ts_ms=at(day, 9, 5)),  # short: apart
        dict(type="abandoned", call="e", wait_ms=45_000, caller="+33622222222",
             ts_ms=at(day, 9, 6)),
    ]
    for i, r in enumerate(rows):
        CallLogEntry.create(shard=0, entry_id=f"{day}-{i}", account=demo.account.id,
                            number=welcome.number, profile="accueil", **r)
    # a 20-minute lunch break of Claire's (no number: a break is the line's)
    CallLogEntry.create(shard=0, entry_id=f"{day}-p", account=demo.account.id, number="",
                        call="", type="line.unpaused", line=CLAIRE, paused_ms=1_200_000,
                        ts_ms=at(day, 13, 0))


def test_swb8_per_agent_rest_and_pause_service_level_per_queue_short_abandons_apart(
        admin, demo, welcome, db_conn):
    from webapp.models import WelcomeProfile
    from webapp.services import stats

    WelcomeProfile.update(sla_s=15, rest_s=10).where(
        (WelcomeProfile.service == welcome.id) & (WelcomeProfile.key == "accueil")).execute()
    day = dt.date(2026, 11, 23)
    log_day(demo, welcome, day)
    period = stats.period("custom", PARIS, start=day.isoformat(), end=day.isoformat())
    s = stats.compute(welcome, period, PARIS)
    agents = {a.line: a for a in s.agents}
    assert (agents[CLAIRE].answered, agents[CLAIRE].talk_ms) == (2, 80_000)
    assert agents[CLAIRE].rest_ms == 4_000 + 10_000  # cut short by "c", then the full 10 s
    assert agents[CLAIRE].pause_ms == 1_200_000
    assert (agents[LUCAS].rest_ms, agents[LUCAS].pause_ms) == (10_000, 0)
    assert s.counts["abandoned"] == 2 and s.short_abandoned == 1
    assert s.received == 5
    assert s.service_level == 2 / 4  # a and c within 15 s, of 5 received minus 1 short
    assert s.abandon_rate == 1 / 4
    r = admin.client.get(f"/configurer/statistiques/{welcome.id}?periode=custom"
                         f"&du={day}&au={day}")
    page = r.data.decode()
    assert '<dd id="kpi-short">1</dd>' in page and '<dd id="kpi-sl">50,0 %</dd>' in page
    assert "Temps de pause" in page and "20\xa0min" in page and "Accueil 15\u202fs" in page
    csv = admin.client.get(f"/configurer/statistiques/{welcome.id}/export.csv?periode=custom"
                           f"&du={day}&au={day}").data.decode("utf-8-sig")
    assert "Abandons courts (moins de 5 s);1\r\n" in csv
    assert f"{CLAIRE};Ligne Claire Dubois;2;0;0,0;80,0;14,0;1200,0\r\n" in csv


def test_swb8_weekly_report_subscription_and_email_with_the_csv_attached(
        admin, demo, welcome, db_conn, smtp, run_jobs, redis_conn):
    from webapp.models import StatsSubscription
    from worker.reports import schedule_weekly_reports, weekly_reports

    url = f"/configurer/statistiques/{welcome.id}"
    r = admin.post(f"{url}/rapport-hebdomadaire", {"abonner": "1"}, token_from=url)
    assert r.status_code == 303
    assert "Abonné au rapport hebdomadaire" in admin.client.get(url).data.decode()
    assert StatsSubscription.select().count() == 1
    log_day(demo, welcome, dt.date(2026, 11, 25))  # a Wednesday of last week
    smtp.clear()
    assert weekly_reports(today="2026-12-01") == 1  # Tuesday: the week of 23–29 November
    assert weekly_reports(today="2026-12-01") == 0  # once per week and subscriber
    run_jobs()
    message = smtp.last(demo.admin_email)
    assert "Rapport hebdomadaire" in message["Subject"]
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    name = "statistiques-33100000001-2026-11-23-2026-11-29.csv"
    assert name in parts
    csv = parts[name].get_payload(decode=True).decode("utf-8-sig")
    assert "Appels reçus;5" in csv
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(
        decode=True).decode()
    assert "/configurer/statistiques/" in text and "du=2026-11-23&au=2026-11-29" in text
    # the RQ scheduler holds next Monday's run, once
    monday = dt.datetime(2026, 12, 2, 12, 0, tzinfo=PARIS)
    assert schedule_weekly_reports(redis_conn, monday) == "weekly-report-2026-12-07"
    assert schedule_weekly_reports(redis_conn, monday) == "weekly-report-2026-12-07"
    r = admin.post(f"{url}/rapport-hebdomadaire", {"abonner": "0"}, token_from=url)
    assert StatsSubscription.select().count() == 0

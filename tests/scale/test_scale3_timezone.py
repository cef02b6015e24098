"""SCALE-3 (web side): each account's time zone, chosen in the account page and the
back office, used by the engine document, the "who answers at…" preview, statistics
periods and every date on screen."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.scale.conftest import PASSWORD, entries, make_account

PARIS, REUNION = ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion")


def office_hours(welcome, days="0,1,2,3,4", start="09:00", end="18:00"):
    """The queue answers on weekdays 09:00–18:00, "nuit" (entry) otherwise."""
    from webapp.models import WelcomeProfile, WelcomeTimeRule

    queue = WelcomeProfile.get((WelcomeProfile.service == welcome.id)
                               & (WelcomeProfile.key == "jour"))
    WelcomeProfile.update(is_entry=False).where(WelcomeProfile.id == queue.id).execute()
    night = WelcomeProfile.create(service=welcome, key="nuit", name="Nuit",
                                  kind="ring_all", is_entry=True)
    WelcomeTimeRule.create(service=welcome, profile=queue, days=days, start=start, end=end)
    return queue, night


def test_scale3_same_weekly_rule_answers_differently_in_paris_and_reunion(app, db_conn):
    from engine.config import parse
    from engine.model import route
    from webapp.services import routing_preview as svc
    from webapp.services.engine_config import build_document

    _, wp, _, _ = make_account("Paris", "+33140000", timezone="Europe/Paris")
    _, wr, _, _ = make_account("Reunion", "+262262000", timezone="Indian/Reunion")
    office_hours(wp)
    office_hours(wr)
    instant = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)  # Monday 08:00 Paris, 11:00 Réunion
    answers = {}
    for service, zone in ((wp, PARIS), (wr, REUNION)):
        local = instant.astimezone(zone).replace(tzinfo=None)
        profile, at = svc.preview(service, local)
        answers[service.number] = profile.key
        assert at == local
    assert answers == {wp.number: "nuit", wr.number: "jour"}
    # the engine's document carries each number's zone (docs/protocol.md per-number timezone)
    doc = {"timezone": "Europe/Paris", "lines": {}, "numbers": {}}
    for shard in (0, 1):
        part = build_document(shard=shard)
        doc["numbers"].update(part["numbers"])
    assert doc["numbers"][wp.number]["timezone"] == "Europe/Paris"
    assert doc["numbers"][wr.number]["timezone"] == "Indian/Reunion"
    # one account alone in its document: its rule runs in its zone
    ms = int(instant.timestamp() * 1000)
    for number, zone in ((wp.number, "Europe/Paris"), (wr.number, "Indian/Reunion")):
        config = parse({"timezone": zone, "lines": {},
                        "numbers": {number: doc["numbers"][number]}})
        assert route(config, config.numbers[number], ms) == answers[number]


def test_scale3_paris_dst_day_rules_and_statistics_periods(app, db_conn):
    from engine.config import parse
    from engine.model import route
    from webapp.services import stats
    from webapp.services.engine_config import build_document

    _, wp, _, _ = make_account("Paris", "+33140000", timezone="Europe/Paris")
    office_hours(wp, days="6", start="01:00", end="04:00")  # Sundays 01:00–04:00
    dst = dt.date(2026, 3, 29)  # Paris: 02:00 CET → 03:00 CEST
    config = parse({"timezone": "Europe/Paris", "lines": {},
                    "numbers": {wp.number: build_document(shard=0)["numbers"][wp.number]}})

    def at(h, m):  # UTC on the DST day
        ms = int(dt.datetime(2026, 3, 29, h, m, tzinfo=dt.UTC).timestamp() * 1000)
        return route(config, config.numbers[wp.number], ms)

    assert at(0, 30) == "jour"  # 01:30 CET
    assert at(1, 30) == "jour"  # 03:30 CEST (02:xx does not exist)
    assert at(2, 30) == "nuit"  # 04:30 CEST: after the rule
    assert at(23, 30) == "nuit"  # Monday 01:30 CEST
    # "today" is 23 hours long in Paris that day, 24 in Réunion
    p = stats.period("today", PARIS, today=dst)
    r = stats.period("today", REUNION, today=dst)
    assert p.end_ms - p.start_ms == 23 * 3600 * 1000
    assert r.end_ms - r.start_ms == 24 * 3600 * 1000
    assert p.start_ms - r.start_ms == 3 * 3600 * 1000  # Réunion's day starts 3 h earlier
    assert stats.period("7d", PARIS, today=dst).end_ms - stats.period(
        "7d", PARIS, today=dst).start_ms == (7 * 24 - 1) * 3600 * 1000


def test_scale3_dates_on_screen_follow_the_account_zone(app, db_conn, new_browser):
    from webapp.models import User

    _, _, _, paris_admin = make_account("Paris", "+33140000", timezone="Europe/Paris")
    _, _, _, reunion_admin = make_account("Reunion", "+262262000", timezone="Indian/Reunion")
    same_instant = dt.datetime(2026, 12, 7, 7, 0)  # stored UTC, naive
    User.update(password_set_at=same_instant).execute()
    shown = {}
    for email in (paris_admin, reunion_admin):
        b = new_browser()
        b.sign_in(email, PASSWORD)
        shown[email] = b.client.get("/compte").get_data(as_text=True)
    assert "08:00" in shown[paris_admin] and "11:00" not in shown[paris_admin]
    assert "11:00" in shown[reunion_admin] and "08:00" not in shown[reunion_admin]
    assert "Indian/Reunion" in shown[reunion_admin]


def test_scale3_administrator_chooses_the_zone_validated_and_engine_told(
        app, db_conn, browser, cluster_conn):
    from webapp.models import Account, AuditEvent

    make_account("Alpha", "+33140000")  # shard 0
    b, _, _, admin = make_account("Beta", "+33150000")  # shard 1
    assert b.shard == 1
    browser.sign_in(admin, PASSWORD)
    r = browser.post("/compte/fuseau-horaire", {"timezone": "Mars/Olympus_Mons"},
                     token_from="/compte")
    assert r.status_code == 400 and "Indian/Reunion" in r.get_data(as_text=True)
    assert Account.get_by_id(b.id).timezone == "Europe/Paris"
    assert not entries(cluster_conn, "acd:{1}:in")
    r = browser.post("/compte/fuseau-horaire", {"timezone": "America/Martinique"},
                     token_from="/compte")
    assert r.status_code == 303
    assert Account.get_by_id(b.id).timezone == "America/Martinique"
    assert [e["type"] for e in entries(cluster_conn, "acd:{1}:in")] == ["config.reload"]
    assert not entries(cluster_conn, "acd:{0}:in")
    assert AuditEvent.select().where(AuditEvent.kind == "account.timezone.updated").count() == 1
    assert "America/Martinique" in browser.client.get("/compte").get_data(as_text=True)


def test_scale3_back_office_sets_an_account_zone(app, db_conn, demo, smtp, run_jobs):
    from tests.conftest import StaffBrowser
    from webapp.models import Account

    staff = StaffBrowser(app.test_client(), smtp, run_jobs)
    staff.sign_in(demo.password)
    page = f"/ops/comptes/{demo.account.id}"
    r = staff.post(page + "/fuseau-horaire", {"timezone": "Paris"}, token_from=page)
    assert r.status_code == 400
    assert Account.get_by_id(demo.account.id).timezone == "Europe/Paris"
    r = staff.post(page + "/fuseau-horaire", {"timezone": "Indian/Reunion"}, token_from=page)
    assert r.status_code == 303
    assert Account.get_by_id(demo.account.id).timezone == "Indian/Reunion"
    assert 'value="Indian/Reunion"' in staff.client.get(page).get_data(as_text=True)

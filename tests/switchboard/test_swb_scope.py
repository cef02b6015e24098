"""SWB-1/2/3 scope and permissions: site scope, tenancy, "Superviser les appels"."""

from __future__ import annotations


def test_swb1_restricted_user_sees_no_out_of_scope_number_and_cannot_act(browser, demo,
                                                                        welcome, redis_conn):
    browser.sign_in(demo.user_email, demo.password)
    page = browser.client.get("/standard").data.decode().replace("&#39;", "'")
    assert "01 00 00 00 01" not in page
    assert "Aucun numéro d'accueil dans votre périmètre" in page
    r = browser.client.get("/standard/flux", buffered=False)
    body = iter(r.response)
    first = next(body)
    assert b"retry" in first
    r.close()
    r = browser.post(f"/standard/{welcome.id}/appels/x/attente", token_from="/standard")
    assert r.status_code == 403 and "Superviser les appels" in r.data.decode()
    assert redis_conn.xlen("acd:{0}:in") == 0
    assert browser.client.get(f"/configurer/statistiques/{welcome.id}").status_code == 404


def test_swb3_statistics_periods_and_bad_custom_period(admin, welcome):
    for period in ("today", "7d", "30d"):
        r = admin.client.get(f"/configurer/statistiques/{welcome.id}?periode={period}")
        assert r.status_code == 200
    r = admin.client.get(f"/configurer/statistiques/{welcome.id}?periode=custom"
                         "&du=2026-05-10&au=2026-05-01")
    page = r.data.decode()
    assert r.status_code == 400 and "La date de fin doit être" in page
    assert 'value="2026-05-10"' in page
    r = admin.client.get(f"/configurer/statistiques/{welcome.id}/export.csv?periode=custom"
                         "&du=x&au=y")
    assert r.status_code == 400


def test_swb3_period_bounds_in_account_time_zone():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from webapp.services.stats import percentile, period

    zone = ZoneInfo("Europe/Paris")
    p = period("7d", zone, today=dt.date(2026, 3, 29))  # DST starts that day
    assert p.first == dt.date(2026, 3, 23) and p.last == dt.date(2026, 3, 29)
    assert p.start_ms == int(dt.datetime(2026, 3, 22, 23, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert p.end_ms == int(dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([7], 0.9) == 7 and percentile([], 0.9) is None

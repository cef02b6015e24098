"""SEC-3: wrong 2FA codes are capped per account across sign-in attempts and resends:
at most 10 in 15 minutes, then that account's sign-in waits (French message with the time
left, e-mail alert to its owner); other accounts are unaffected; per-IP limits stay."""

from __future__ import annotations

import datetime as dt
import html

from tests.conftest import text_of


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _fresh_attempt(b, email, password):
    response = b.password_step(email, password)
    if response.status_code != 303:
        return None, response
    page = b.client.get("/connexion/verification").get_data(as_text=True)
    if 'name="code"' not in page:
        b.request_code()
    return b.latest_code(email), response


def test_sec3_guessing_across_sign_ins_is_capped(demo, browser, new_browser, smtp, db_conn):
    from webapp.models import AuditEvent

    statuses = []
    right = None
    wrong_sent = 0
    while wrong_sent < 29:  # what succeeded before: 29 wrong codes, then the right one
        right, response = _fresh_attempt(browser, demo.admin_email, demo.password)
        if right is None:
            statuses.append(response.status_code)
            break
        for _ in range(min(5, 29 - wrong_sent)):
            response = browser.submit_code(_wrong(right))
            statuses.append(response.status_code)
            wrong_sent += 1
            if response.status_code == 429:
                break
        if statuses[-1] == 429:
            break
    wrong_checked = AuditEvent.select().where(AuditEvent.kind == "tfa.code_wrong").count()
    assert wrong_checked <= 10
    assert 429 in statuses
    # The right code of the live attempt is refused too, with the time left in French.
    response = browser.submit_code(right) if right else browser.password_step(
        demo.admin_email, demo.password)
    assert response.status_code == 429
    body = html.unescape(response.get_data(as_text=True))
    assert "Réessayez dans 15 minutes" in body or "Réessayez dans 14 minutes" in body
    assert browser.client.get("/").status_code == 302  # not signed in
    # A fresh sign-in with the right password waits as well, and no code is sent.
    smtp.clear()
    response = browser.password_step(demo.admin_email, demo.password)
    assert response.status_code == 429 and "Réessayez dans" in html.unescape(
        response.get_data(as_text=True))
    browser.run_jobs()
    alerts = smtp.messages(demo.admin_email)
    assert not [m for m in alerts if "Votre code" in (m["Subject"] or "")]
    # Other accounts are unaffected.
    other = new_browser()
    other.sign_in(demo.user_email, demo.password)
    assert other.client.get("/").status_code == 200


def test_sec3_owner_is_alerted_and_sign_in_comes_back(demo, browser, smtp, run_jobs, db_conn,
                                                     time_machine):
    time_machine.move_to(dt.datetime.now(dt.UTC), tick=True)
    for _attempt in range(2):
        right, _ = _fresh_attempt(browser, demo.admin_email, demo.password)
        for _ in range(5):
            browser.submit_code(_wrong(right))
    run_jobs()
    alert = [m for m in smtp.messages(demo.admin_email) if "suspendue" in (m["Subject"] or "")]
    assert len(alert) == 1
    assert "10 codes" in text_of(alert[0])
    time_machine.shift(dt.timedelta(minutes=15, seconds=5))
    browser.sign_in(demo.admin_email, demo.password)
    assert browser.client.get("/").status_code == 200


def test_sec3_resends_do_not_reset_the_count(demo, browser, db_conn):
    right, _ = _fresh_attempt(browser, demo.admin_email, demo.password)
    statuses = []
    for _round in range(3):
        for _ in range(4):
            statuses.append(browser.submit_code(_wrong(right)).status_code)
        browser.request_code()
        right = browser.latest_code(demo.admin_email) if statuses[-1] != 429 else right
    assert statuses[:10] == [400] * 9 + [429]
    assert browser.submit_code(right).status_code == 429

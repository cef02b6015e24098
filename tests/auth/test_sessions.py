"""Sessions, CSRF, headers, logs: the security rules of the foundation issue."""

from __future__ import annotations

import logging

from tests.conftest import link_in


def test_logout_kills_server_side_session(tenant, browser):
    browser.sign_in(tenant.admin_email, tenant.password)
    cookie = browser.client.get_cookie("cm_session").value
    browser.post("/deconnexion", token_from="/")
    browser.client.set_cookie("cm_session", cookie)  # replay the old cookie
    response = browser.client.get("/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_session_id_rotated_after_password_and_after_2fa(tenant, browser):
    browser.client.get("/connexion")
    before = browser.client.get_cookie("cm_session").value
    browser.password_step(tenant.admin_email, tenant.password)
    after_password = browser.client.get_cookie("cm_session").value
    browser.request_code()
    browser.submit_code(browser.latest_code(tenant.admin_email))
    after_2fa = browser.client.get_cookie("cm_session").value
    assert len({before, after_password, after_2fa}) == 3


def test_session_cookie_flags(tenant, browser):
    browser.sign_in(tenant.admin_email, tenant.password)
    cookie = browser.client.get_cookie("cm_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_post_without_csrf_token_is_refused(tenant, browser, db_conn):
    from webapp.models import TFA_DISABLED, User

    browser.sign_in(tenant.admin_email, tenant.password)
    user = User.get(User.email == tenant.user_email)
    response = browser.client.post(f"/preferences/acces/utilisateurs/{user.id}/2fa/desactiver")
    assert response.status_code == 400
    assert "Formulaire expiré" in response.get_data(as_text=True)
    assert User.get_by_id(user.id).tfa_state != TFA_DISABLED


def test_security_headers(client):
    response = client.get("/connexion")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_responses_are_compressed(client):
    response = client.get("/connexion", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def test_session_absolute_lifetime(tenant, browser, time_machine):
    import datetime as dt

    t0 = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    time_machine.move_to(t0, tick=False)
    browser.sign_in(tenant.admin_email, tenant.password)
    for hours in range(1, 12):  # active every hour: the idle timeout never triggers
        time_machine.move_to(t0 + dt.timedelta(hours=hours), tick=False)
        assert browser.client.get("/").status_code == 200
    time_machine.move_to(t0 + dt.timedelta(hours=12, minutes=1), tick=False)
    assert browser.client.get("/").status_code == 302


def test_mail2_no_code_or_link_in_logs(tenant, browser, run_jobs, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    browser.password_step(tenant.admin_email, tenant.password)
    browser.request_code()
    code = browser.latest_code(tenant.admin_email)
    browser.submit_code(code)
    browser.post("/mot-de-passe/oublie", {"email": tenant.user_email})
    run_jobs()
    link = link_in(smtp.last(tenant.user_email))
    token = link.rsplit("/", 1)[1]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "send_email" in logged  # the worker did log its jobs…
    assert code not in logged and token not in logged  # …but never a secret


def test_mail2_retried_job_never_sends_twice(app, smtp, run_jobs, db_conn):
    from webapp.models import MAIL_SENT, OutboundEmail
    from webapp.services.mail import enqueue, send_later

    email = send_later(app.extensions["cm_settings"].REDIS_URL, kind="test", to="x@y.example",
                       subject="Essai", template="password_link", first_name="X",
                       link="http://manager.test/x", hours=1)
    run_jobs()
    assert OutboundEmail.get_by_id(email.id).status == MAIL_SENT
    enqueue(app.extensions["cm_settings"].REDIS_URL, email.id)  # a retry of the same job
    run_jobs()
    assert len(smtp.messages("x@y.example")) == 1
    assert OutboundEmail.get_by_id(email.id).text_body is None  # body erased once sent


def test_mail2_failed_send_is_recorded_for_operators(app, run_jobs, db_conn, monkeypatch):
    from tests.servers import free_port
    from webapp.models import OutboundEmail
    from webapp.services.mail import send_later

    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    email = send_later(app.extensions["cm_settings"].REDIS_URL, kind="test", to="x@y.example",
                       subject="Essai", template="password_link", first_name="X",
                       link="http://manager.test/x", hours=1)
    run_jobs()
    row = OutboundEmail.get_by_id(email.id)
    assert row.status == "queued" and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error

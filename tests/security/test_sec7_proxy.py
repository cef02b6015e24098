"""SEC-7: behind a reverse proxy (TRUSTED_PROXIES), rate limits and the audit log see the
client's address; X-Forwarded-For from anyone else is ignored."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from


@pytest.fixture
def proxied_app(database_url, redis_url, smtp):
    from webapp.app import create_app

    return create_app({"TESTING": True, "TRUSTED_PROXIES": "127.0.0.1, ::1"})


def _failed_login(client, client_ip, n, peer="127.0.0.1"):
    environ = {"REMOTE_ADDR": peer}
    headers = {"X-Forwarded-For": f"198.51.100.1, {client_ip}"}
    token = csrf_from(client.get("/connexion", environ_base=environ, headers=headers).data)
    return client.post("/connexion", data={"csrf_token": token, "email": f"x{n}@nobody.test",
                                           "password": "wrong password here"},
                       environ_base=environ, headers=headers)


def test_sec7_limits_and_audit_see_the_client_behind_the_proxy(proxied_app):
    from webapp.models import AuditEvent

    first, second = proxied_app.test_client(), proxied_app.test_client()
    statuses = [_failed_login(first, "203.0.113.7", n).status_code for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    # Another client behind the same proxy is not limited by the first one's failures.
    assert _failed_login(second, "203.0.113.8", 99).status_code == 401
    with proxied_app.app_context():
        from webapp.db import db

        with db.connection_context():
            ips = {e.ip for e in AuditEvent.select().where(AuditEvent.kind == "signin.failed")}
    assert ips == {"203.0.113.7", "203.0.113.8"}


def test_sec7_forwarded_header_from_an_untrusted_peer_is_ignored(proxied_app):
    from webapp.models import AuditEvent

    client = proxied_app.test_client()
    assert _failed_login(client, "203.0.113.9", 1, peer="192.0.2.50").status_code == 401
    with proxied_app.app_context():
        from webapp.db import db

        with db.connection_context():
            ips = {e.ip for e in AuditEvent.select().where(AuditEvent.kind == "signin.failed")}
    assert ips == {"192.0.2.50"}

"""LINE-4: up to 20 blocked numbers per line (French formats), anonymous callers, and the
Redis read model `pbx:blacklist:{line}` the PBX side reads."""

from __future__ import annotations

from webapp.models import AuditEvent, Service
from webapp.models.history import BlockedNumber
from webapp.services import blacklist

PARIS = "+33100000101"


def _url(line: Service, suffix: str = "") -> str:
    return f"/services/{line.id}/liste-noire{suffix}"


def test_line4_french_formats_normalised_and_published(tenant_admin, tenant, db_conn, redis_conn):
    line = tenant.line
    for raw in ("06 12 34 56 78", "+33 (0)4 78 00 00 01", "0033 1 23 45 67 89"):
        response = tenant_admin.post(_url(line), {"number": raw})
        assert response.status_code == 303, response.data[:300]
    stored = [b.number for b in BlockedNumber.select().where(BlockedNumber.service == line)]
    assert stored == ["+33612345678", "+33478000001", "+33123456789"]
    key = f"pbx:blacklist:{line.number}"
    assert set(redis_conn.hkeys(key)) == {b"+33612345678", b"+33478000001", b"+33123456789"}
    assert blacklist.is_blocked(redis_conn, line.number, "+33612345678")
    assert not blacklist.is_blocked(redis_conn, line.number, "anonymous")
    # Same number typed differently: refused, nothing added.
    dup = tenant_admin.post(_url(line), {"number": "06.12.34.56.78"})
    assert dup.status_code == 400
    assert "déjà bloqué" in dup.get_data(as_text=True)
    bad = tenant_admin.post(_url(line), {"number": "12345"})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Numéro non valide" in body and 'value="12345"' in body
    assert BlockedNumber.select().where(BlockedNumber.service == line).count() == 3
    # Removing publishes too.
    removed = tenant_admin.post(_url(line, "/retirer"), {"number": "+33478000001"})
    assert removed.status_code == 303
    assert not blacklist.is_blocked(redis_conn, line.number, "+33478000001")
    assert AuditEvent.select().where(AuditEvent.kind == "blacklist.added").count() == 3


def test_line4_21st_number_refused(tenant_admin, tenant, db_conn, redis_conn):
    line = tenant.line
    for i in range(20):
        assert tenant_admin.post(_url(line), {"number": f"04 78 00 00 {i:02d}"}).status_code == 303
    page = tenant_admin.client.get(_url(line)).get_data(as_text=True)
    assert "20/20" in page and "La liste noire est complète" in page
    response = tenant_admin.post(_url(line), {"number": "04 78 00 00 99"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "déjà 20 numéros, le maximum" in body
    assert 'value="04 78 00 00 99"' in body  # what was typed is kept
    assert BlockedNumber.select().where(BlockedNumber.service == line).count() == 20
    assert redis_conn.hlen(f"pbx:blacklist:{line.number}") == 20
    # Anonymous callers are not one of the 20.
    assert tenant_admin.post(_url(line, "/anonymes"), {"anonymous": "1"}).status_code == 303
    assert blacklist.is_blocked(redis_conn, line.number, "anonymous")
    assert redis_conn.hlen(f"pbx:blacklist:{line.number}") == 21
    assert tenant_admin.post(_url(line, "/anonymes"), {"anonymous": "0"}).status_code == 303
    assert not blacklist.is_blocked(redis_conn, line.number, "anonymous")


def test_line4_flushed_redis_is_rebuilt_at_consumer_start(tenant_admin, tenant, db_conn,
                                                           redis_conn):
    from worker.cdr import CdrConsumer

    line = tenant.line
    tenant_admin.post(_url(line), {"number": "06 12 34 56 78"})
    tenant_admin.post(_url(line, "/anonymes"), {"anonymous": "1"})
    redis_conn.flushall()
    CdrConsumer(redis_conn, "calllog-b").start()
    assert blacklist.is_blocked(redis_conn, line.number, "+33612345678")
    assert blacklist.is_blocked(redis_conn, line.number, "anonymous")


def test_line4_restricted_user_gets_404_on_paris_line(new_browser, demo, db_conn):
    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    paris = Service.get(Service.number == PARIS)
    assert b.client.get(_url(paris)).status_code == 404
    response = b.post(_url(paris), {"number": "0612345678"}, token_from="/compte")
    assert response.status_code == 404
    assert BlockedNumber.select().where(BlockedNumber.service == paris).count() == 0

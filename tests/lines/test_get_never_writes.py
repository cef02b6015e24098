"""docs/architecture.md §5 (GET never changes state) for LINE-1: a fixed line gets its default
forwarding profile where it comes into existence (`provisioning.create_service`), older
lines by the `flask db-upgrade` backfill; the line page never writes it on a GET."""

from __future__ import annotations

from webapp.models import ForwardingProfile, Service, Site
from webapp.services import forwarding
from webapp.services.provisioning import create_service


def _stored(line: Service) -> list[ForwardingProfile]:
    return list(ForwardingProfile.select().where(ForwardingProfile.service == line.id))


def _legacy_line(site: Site, number: str = "+33100000151") -> Service:
    """A fixed line inserted directly (as before `create_service`): no profile yet."""
    return Service.create(account=site.account_id, site=site, kind="fixed", number=number,
                          label="Ligne ancienne", backup_number="+33600000151")


def test_line1_fixed_line_is_created_with_its_default_profile(tenant, db_conn):
    site = tenant.site
    line = create_service(account=site.account_id, site=site, kind="fixed",
                          number="+33100000152", label="Nouvelle ligne",
                          backup_number="+33600000152")
    rows = _stored(line)
    assert [(p.name, p.is_default, p.is_active) for p in rows] == [("Par défaut", True, True)]
    assert rows[0].unavailable_kind == "number" and rows[0].unavailable_number == "+33600000152"
    mobile = create_service(account=site.account_id, site=site, kind="mobile",
                            number="+33600000153")
    assert _stored(mobile) == []
    assert forwarding.create_default_profile(line) is False  # idempotent
    assert len(_stored(line)) == 1


def test_arch5_line_settings_get_writes_nothing_for_a_line_without_profiles(tenant, tenant_admin,
                                                                              db_conn):
    line = _legacy_line(tenant.site)
    before = ForwardingProfile.select().count()
    page = tenant_admin.client.get(f"/services/{line.id}/ligne")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Par défaut" in html and "En vigueur" in html and "06 00 00 01 51" in html
    assert f"/services/{line.id}/ligne/renvois/0" in html  # the virtual default's form
    form = tenant_admin.client.get(f"/services/{line.id}/ligne/renvois/0")
    assert form.status_code == 200 and 'value="Par défaut"' in form.get_data(as_text=True)
    assert ForwardingProfile.select().count() == before and _stored(line) == []


def test_line1_first_change_stores_the_virtual_default_profile(tenant, tenant_admin, db_conn):
    line = _legacy_line(tenant.site)
    response = tenant_admin.post(
        f"/services/{line.id}/ligne/renvois/0",
        {"name": "Par défaut", "noanswer_delay_s": "25", "busy_kind": "number",
         "busy_number": "06 12 34 56 78", "unavailable_kind": "number",
         "unavailable_number": "06 00 00 01 51"},
        token_from=f"/services/{line.id}/ligne/renvois/0")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    rows = _stored(line)
    assert len(rows) == 1 and rows[0].is_default and rows[0].is_active
    assert (rows[0].busy_number, rows[0].noanswer_delay_s) == ("+33612345678", 25)
    # A new profile on another legacy line stores its default first.
    other = _legacy_line(tenant.site, "+33100000154")
    created = tenant_admin.post(f"/services/{other.id}/ligne/renvois", {"name": "Vacances"},
                                token_from=f"/services/{other.id}/ligne/renvois/nouveau")
    assert created.status_code == 303
    assert sorted((p.name, p.is_active) for p in _stored(other)) == [
        ("Par défaut", True), ("Vacances", False)]


def test_line1_db_upgrade_backfills_default_profiles(app, tenant, db_conn):
    line = _legacy_line(tenant.site)
    first = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert first.exit_code == 0, first.output
    assert "Profils de renvoi par défaut créés : 1" in first.output
    rows = _stored(line)
    assert [(p.name, p.is_active, p.unavailable_number) for p in rows] == [
        ("Par défaut", True, "+33600000151")]
    again = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert again.exit_code == 0 and "Profils de renvoi" not in again.output
    assert len(_stored(line)) == 1

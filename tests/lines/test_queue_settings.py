"""LINE-3 queue-call flag and backup number; config.reload on the engine's real stream."""

from __future__ import annotations

import json

from tests.lines.conftest import engine_events
from webapp.models import AuditEvent, ForwardingProfile, Service, Site
from webapp.services import forwarding, welcome_numbers
from webapp.services.engine_config import numbers_naming


def url(service_id: int, tail: str = "") -> str:
    return f"/services/{service_id}/ligne{tail}"


def active(service_id: int) -> ForwardingProfile:
    return ForwardingProfile.get((ForwardingProfile.service == service_id)
                                 & ForwardingProfile.is_active)


def test_line3_queue_calls_allowed_by_default_with_the_npd_warning(tenant, tenant_admin,
                                                                   db_conn):
    site = tenant.site
    line = Service.create(account=site.account_id, site=site, kind="fixed",
                          number="+33100000150", label="Nouvelle ligne")
    assert line.accept_queue_calls is True and line.backup_number is None
    page = tenant_admin.client.get(url(line.id)).get_data(as_text=True)
    assert "Autoriser les appels provenant d&#39;un numéro d&#39;accueil" in page \
        or "Autoriser les appels provenant d'un numéro d'accueil" in page
    assert 'name="accept_queue_calls" value="1" id="f-accept_queue_calls"' in page
    assert "checked" in page.split('id="f-accept_queue_calls"')[1].split(">")[0]
    assert "Ne Pas Déranger" in page


def test_line3_turning_the_flag_off_publishes_config_reload(admin, ids, redis_conn):
    a = ids["fixed_paris"]
    assert engine_events(redis_conn) == []
    response = admin.post(url(a, "/file-accueil"), {"backup_number": ""}, token_from=url(a))
    assert response.status_code == 303
    assert Service.get_by_id(a).accept_queue_calls is False
    events = engine_events(redis_conn)
    assert [e["type"] for e in events] == ["config.reload"]
    assert events[0]["ts"].isdigit() and set(events[0]) == {"type", "ts", "numbers"}
    # SCALE-2: scoped to the welcome numbers whose profiles name the line
    assert events[0]["numbers"] == ",".join(numbers_naming([Service.get_by_id(a).number]))
    detail = json.loads(AuditEvent.get(AuditEvent.kind == "line.queue_settings.updated").detail)
    assert detail["before"]["accept_queue_calls"] is True
    assert detail["after"]["accept_queue_calls"] is False


def test_line3_backup_number_normalised_becomes_unavailability_target_and_reloads(
        admin, ids, redis_conn):
    a = ids["fixed_paris"]
    response = admin.post(url(a, "/file-accueil"),
                          {"accept_queue_calls": "1", "backup_number": "06 11 22 33 44"},
                          token_from=url(a))
    assert response.status_code == 303
    line = Service.get_by_id(a)
    assert line.backup_number == "+33611223344" and line.accept_queue_calls
    profile = active(a)
    assert (profile.unavailable_kind, profile.unavailable_number) == ("number", "+33611223344")
    assert [e["type"] for e in engine_events(redis_conn)] == ["config.reload"]
    assert "06 11 22 33 44" in admin.client.get(url(a)).get_data(as_text=True)


def test_line3_unchanged_settings_publish_nothing(admin, ids, redis_conn):
    a = ids["fixed_paris"]
    admin.post(url(a, "/file-accueil"), {"accept_queue_calls": "1", "backup_number": ""},
               token_from=url(a))
    assert engine_events(redis_conn) == []


def test_line3_invalid_backup_refused_nothing_changed_no_reload(admin, ids, redis_conn):
    a = ids["fixed_paris"]
    response = admin.post(url(a, "/file-accueil"), {"backup_number": "06 11"},
                          token_from=url(a))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Numéro non valide" in page
    assert 'value="06 11"' in page
    line = Service.get_by_id(a)
    assert line.accept_queue_calls is True and line.backup_number is None
    assert engine_events(redis_conn) == []
    response = admin.post(url(a, "/file-accueil"), {"backup_number": "01 00 00 01 01"},
                          token_from=url(a))
    assert response.status_code == 400 and "autre numéro" in response.get_data(as_text=True)


def test_line3_q9_switching_profile_changes_backup_number_and_reloads(admin, ids, redis_conn):
    """Hugo's line has a backup number; forcing a profile without one clears it."""
    hugo = Service.get(Service.number == "+33100000104")
    assert hugo.backup_number == "+33600000104"
    assert admin.post(url(hugo.id, "/renvois"), {"name": "Sans secours"},
                      token_from=url(hugo.id)).status_code == 303
    new = ForwardingProfile.get((ForwardingProfile.service == hugo.id)
                                & (ForwardingProfile.name == "Sans secours"))
    assert engine_events(redis_conn) == []  # not in force yet: nothing the engine reads
    admin.post(url(hugo.id, f"/renvois/{new.id}/activer"), token_from=url(hugo.id))
    assert Service.get_by_id(hugo.id).backup_number is None
    assert [e["type"] for e in engine_events(redis_conn)] == ["config.reload"]
    # Editing the profile in force to forward to another line on unavailability.
    admin.post(url(hugo.id, f"/renvois/{new.id}"), {
        "name": "Sans secours", "unavailable_kind": "line",
        "unavailable_line": str(ids["fixed_paris"])}, token_from=url(hugo.id))
    assert Service.get_by_id(hugo.id).backup_number == "+33100000101"
    assert len(engine_events(redis_conn)) == 2


def test_line3_config_reload_goes_to_the_configured_shard(actor, ids, redis_conn):
    from dataclasses import replace

    line = Service.get_by_id(ids["fixed_lyon"])
    forwarding.set_queue_settings(line, {"backup_number": ""}, replace(actor, engine_shard=3))
    assert engine_events(redis_conn, 3)[0]["type"] == "config.reload"
    assert engine_events(redis_conn, 0) == []


def test_line3_reload_published_for_any_fixed_line_agent_or_not(actor, ids, redis_conn):
    """The engine is told about every change of a fixed line's flag or backup number,
    whether or not the line is an agent of a welcome number today: its document lists
    every line (docs/protocol.md "lines")."""
    site = Site.get_by_id(ids["site_lyon"])
    line = Service.create(account=site.account_id, site=site, kind="fixed",
                          number="+33100000151", label="Ligne hors file")
    assert not welcome_numbers.is_queue_agent(line)
    outcome = forwarding.set_queue_settings(line, {"accept_queue_calls": "1",
                                                   "backup_number": "+33 6 00 00 00 99"}, actor)
    assert outcome.engine_changed and outcome.engine_notified
    assert Service.get_by_id(line.id).backup_number == "+33600000099"
    assert [e["type"] for e in engine_events(redis_conn)] == ["config.reload"]

"""LINE-1 forwarding profiles, through the web pages of a fixed line."""

from __future__ import annotations

import json

import pytest
from peewee import IntegrityError

from webapp.models import AuditEvent, ForwardingProfile, Service


def form(name="Réunion", **rules) -> dict:
    data = {"name": name, "noanswer_delay_s": "20"}
    for rule in ("immediate", "busy", "noanswer", "unavailable"):
        data.update({f"{rule}_kind": "none", f"{rule}_number": "", f"{rule}_line": ""})
    data.update(rules)
    return data


def profiles(service_id: int) -> dict[str, ForwardingProfile]:
    return {p.name: p for p in ForwardingProfile.select().where(
        ForwardingProfile.service == service_id)}


def url(service_id: int, tail: str = "") -> str:
    return f"/services/{service_id}/ligne{tail}"


def test_line1_every_fixed_line_has_a_default_profile_in_force(admin, ids):
    page = admin.client.get(url(ids["fixed_lyon"])).get_data(as_text=True)
    assert "Profils de renvoi" in page and "Par défaut" in page and "En vigueur" in page
    rows = list(ForwardingProfile.select().where(ForwardingProfile.service == ids["fixed_lyon"]))
    assert [(p.is_default, p.is_active) for p in rows] == [(True, True)]


def test_line1_profile_sets_each_rule_numbers_normalised(admin, ids):
    response = admin.post(url(ids["fixed_paris"], "/renvois"), form(
        "Réunion", busy_kind="number", busy_number="06 12 34 56 78",
        noanswer_kind="line", noanswer_line=str(ids["fixed_lyon"]), noanswer_delay_s="35",
        unavailable_kind="voicemail", present_company_number="1"),
        token_from=url(ids["fixed_paris"], "/renvois/nouveau"))
    assert response.status_code == 303
    p = profiles(ids["fixed_paris"])["Réunion"]
    assert (p.immediate_kind, p.busy_kind, p.busy_number) == ("none", "number", "+33612345678")
    assert (p.noanswer_kind, p.noanswer_line_id, p.noanswer_delay_s) == (
        "line", ids["fixed_lyon"], 35)
    assert p.unavailable_kind == "voicemail" and p.present_company_number
    assert not p.is_active and not p.is_default
    event = AuditEvent.get(AuditEvent.kind == "line.profile.created")
    detail = json.loads(event.detail)
    assert detail["after"]["busy_number"] == "+33612345678" and event.user_id


def test_line1_invalid_fields_french_messages_typed_values_kept_nothing_written(admin, ids):
    before = ForwardingProfile.select().count()
    response = admin.post(url(ids["fixed_paris"], "/renvois"), form(
        "", busy_kind="number", busy_number="12 34", noanswer_kind="line",
        noanswer_line="999999", noanswer_delay_s="3", immediate_kind="fax"),
        token_from=url(ids["fixed_paris"], "/renvois/nouveau"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Donnez un nom au profil." in page
    assert "Numéro non valide" in page and 'value="12 34"' in page
    assert "Choisissez une ligne de votre entreprise dans la liste." in page
    assert "entre 5 et 60 secondes" in page and 'value="3"' in page
    assert "Choix non valide" in page
    assert ForwardingProfile.select().count() == before


@pytest.mark.parametrize("delay, ok", [("4", False), ("5", True), ("60", True), ("61", False),
                                       ("vingt", False)])
def test_line1_no_answer_delay_between_5_and_60_seconds(admin, ids, delay, ok):
    response = admin.post(url(ids["fixed_paris"], "/renvois"), form(
        "Délai", noanswer_kind="number", noanswer_number="0612345678", noanswer_delay_s=delay),
        token_from=url(ids["fixed_paris"], "/renvois/nouveau"))
    assert response.status_code == (303 if ok else 400)
    assert ("Délai" in profiles(ids["fixed_paris"])) is ok


def test_line1_forward_to_voicemail_needs_the_voicemail_on(admin, ids):
    response = admin.post(url(ids["fixed_lyon"], "/renvois"), form(
        "Messagerie", busy_kind="voicemail"), token_from=url(ids["fixed_lyon"]))
    assert response.status_code == 400
    assert "messagerie vocale de cette ligne est désactivée" in response.get_data(as_text=True)


def test_line1_forward_to_itself_refused(admin, ids):
    response = admin.post(url(ids["fixed_paris"], "/renvois"), form(
        "Moi", immediate_kind="number", immediate_number="01 00 00 01 01"),
        token_from=url(ids["fixed_paris"]))
    assert response.status_code == 400
    assert "elle-même" in response.get_data(as_text=True)


def test_line1_forward_loop_a_b_a_refused(admin, ids):
    a, b = ids["fixed_paris"], Service.get(Service.number == "+33100000110").id
    # B (Arthur) forwards on busy to A, in force.
    default_b = profiles(b)["Par défaut"]
    assert admin.post(url(b, f"/renvois/{default_b.id}"), form(
        "Par défaut", busy_kind="line", busy_line=str(a)),
        token_from=url(b)).status_code == 303
    # A → B, as a line or as the number typed by hand: both close the loop.
    for rules in ({"noanswer_kind": "line", "noanswer_line": str(b)},
                  {"immediate_kind": "number", "immediate_number": "01 00 00 01 10"}):
        response = admin.post(url(a, "/renvois"), form("Boucle", **rules),
                              token_from=url(a))
        page = response.get_data(as_text=True)
        assert response.status_code == 400, rules
        assert "boucle" in page and "01 00 00 01 01 → 01 00 00 01 10 → 01 00 00 01 01" in page
        assert 'value="Boucle"' in page
    assert "Boucle" not in profiles(a)


def test_line1_activation_refused_when_it_would_close_a_loop_previous_stays(admin, ids):
    a, b = ids["fixed_paris"], Service.get(Service.number == "+33100000110").id
    # A gets a non-active profile to B while B has no forward: accepted.
    assert admin.post(url(a, "/renvois"), form("Vers Arthur", immediate_kind="line",
                                               immediate_line=str(b)),
                      token_from=url(a)).status_code == 303
    # Then B forwards to A, in force.
    default_b = profiles(b)["Par défaut"]
    assert admin.post(url(b, f"/renvois/{default_b.id}"), form(
        "Par défaut", immediate_kind="line", immediate_line=str(a)),
        token_from=url(b)).status_code == 303
    target = profiles(a)["Vers Arthur"]
    response = admin.post(url(a, f"/renvois/{target.id}/activer"), token_from=url(a))
    assert response.status_code == 303
    page = admin.client.get(url(a)).get_data(as_text=True)
    assert "boucle" in page
    now = profiles(a)
    assert now["Par défaut"].is_active and not now["Vers Arthur"].is_active


def test_line1_activation_is_one_click_and_exactly_one_profile_in_force(admin, ids):
    a = ids["fixed_paris"]
    absence = profiles(a)["Absence"]
    response = admin.post(url(a, f"/renvois/{absence.id}/activer"), token_from=url(a))
    assert response.status_code == 303
    active = [p.name for p in profiles(a).values() if p.is_active]
    assert active == ["Absence"]
    event = AuditEvent.get(AuditEvent.kind == "line.profile.activated")
    assert json.loads(event.detail)["before"] == {"active": "Par défaut"}
    assert json.loads(event.detail)["after"] == {"active": "Absence"}
    # The database itself refuses a second profile in force on the line.
    with pytest.raises(IntegrityError):
        ForwardingProfile.update(is_active=True).where(
            ForwardingProfile.id == profiles(a)["Par défaut"].id).execute()


def test_line1_activation_from_the_directory_returns_there_never_elsewhere(admin, ids):
    a = ids["fixed_paris"]
    absence = profiles(a)["Absence"]
    response = admin.post(url(a, f"/renvois/{absence.id}/activer"),
                          {"next": "/annuaire?q=dubois"}, token_from=url(a))
    assert response.headers["Location"] == "/annuaire?q=dubois"
    default = profiles(a)["Par défaut"]
    response = admin.post(url(a, f"/renvois/{default.id}/activer"),
                          {"next": "https://evil.example/"}, token_from=url(a))
    assert response.headers["Location"].startswith(url(a))


def test_line1_default_profile_cannot_be_deleted(admin, ids):
    a = ids["fixed_paris"]
    absence, default = profiles(a)["Absence"], profiles(a)["Par défaut"]
    admin.post(url(a, f"/renvois/{absence.id}/activer"), token_from=url(a))
    response = admin.post(url(a, f"/renvois/{default.id}/supprimer"), {"confirm": "1"},
                          token_from=url(a))
    assert response.status_code == 409
    assert "Le profil par défaut ne peut pas être supprimé." in response.get_data(as_text=True)
    assert "Par défaut" in profiles(a)


def test_line1_profile_in_force_cannot_be_deleted_others_can(admin, ids):
    a = ids["fixed_paris"]
    absence = profiles(a)["Absence"]
    admin.post(url(a, f"/renvois/{absence.id}/activer"), token_from=url(a))
    response = admin.post(url(a, f"/renvois/{absence.id}/supprimer"), {"confirm": "1"},
                          token_from=url(a))
    assert response.status_code == 409 and "est en vigueur" in response.get_data(as_text=True)
    default = profiles(a)["Par défaut"]
    admin.post(url(a, f"/renvois/{default.id}/activer"), token_from=url(a))
    response = admin.post(url(a, f"/renvois/{absence.id}/supprimer"), {"confirm": "1"},
                          token_from=url(a))
    assert response.status_code == 303 and "Absence" not in profiles(a)
    assert AuditEvent.select().where(AuditEvent.kind == "line.profile.deleted").count() == 1


def test_line1_rename_and_duplicate_name_refused(admin, ids):
    a = ids["fixed_paris"]
    default = profiles(a)["Par défaut"]
    response = admin.post(url(a, f"/renvois/{default.id}"), form("Absence"), token_from=url(a))
    assert response.status_code == 400
    assert "déjà un profil nommé « Absence »" in response.get_data(as_text=True)
    response = admin.post(url(a, f"/renvois/{default.id}"), form("Bureau"), token_from=url(a))
    assert response.status_code == 303
    renamed = ForwardingProfile.get_by_id(default.id)
    assert renamed.name == "Bureau" and renamed.is_default


def test_line1_immediate_forward_makes_other_rules_moot_on_the_page(admin, ids):
    a = ids["fixed_paris"]
    admin.post(url(a, "/renvois"), form("Tout", immediate_kind="number",
                                        immediate_number="0612345678", busy_kind="voicemail"),
               token_from=url(a))
    page = admin.client.get(url(a)).get_data(as_text=True)
    assert "sans effet : renvoi immédiat actif" in page
    edit = admin.client.get(url(a, f"/renvois/{profiles(a)['Tout'].id}")).get_data(as_text=True)
    assert "les autres renvois sont sans effet" in edit


def test_line1_site_scope_and_tenancy(restricted, other_admin, ids):
    paris, lyon = ids["fixed_paris"], ids["fixed_lyon"]
    assert restricted.client.get(url(paris)).status_code == 404
    assert restricted.client.get(url(lyon)).status_code == 200
    assert other_admin.client.get(url(lyon)).status_code == 404
    # A profile id of another line under this line's URL is not found either.
    paris_default = profiles(paris)["Par défaut"]
    assert restricted.client.get(url(lyon, f"/renvois/{paris_default.id}")).status_code == 404
    # Lines outside the scope are not offered, and refused if posted anyway.
    page = restricted.client.get(url(lyon, "/renvois/nouveau")).get_data(as_text=True)
    assert "01 00 00 01 01" not in page and "01 00 00 01 08" in page
    response = restricted.post(url(lyon, "/renvois"), form(
        "Paris", busy_kind="line", busy_line=str(paris)), token_from=url(lyon))
    assert response.status_code == 400
    # Mobile and fax lines have no forwarding pages here.
    assert restricted.client.get(url(ids["mobile_paris"])).status_code == 404
    assert other_admin.client.get(url(ids["fax_paris"])).status_code == 404


def test_line1_htmx_validation_answers_the_form_fragment(admin, ids):
    a = ids["fixed_paris"]
    response = admin.post(url(a, "/renvois"), form(""), token_from=url(a),
                          headers={"HX-Request": "true", "HX-Target": "profile-form"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.lstrip().startswith("<form") and "Donnez un nom au profil." in page


def test_line3_htmx_queue_form_answers_its_section(admin, ids):
    a = ids["fixed_paris"]
    response = admin.post(url(a, "/file-accueil"), {"backup_number": "12"}, token_from=url(a),
                          headers={"HX-Request": "true", "HX-Target": "file-accueil"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.lstrip().startswith("<section") and 'id="file-accueil"' in page
    assert "Numéro non valide" in page and 'value="12"' in page

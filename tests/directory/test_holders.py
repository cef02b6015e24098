"""DIR-2/3/4: service contacts, the single holder, equipment, Keyyo Phone credentials."""

from __future__ import annotations

import threading

from tests.directory.conftest import audit_details, post, text


def _holder(service_id: int):
    from webapp.models import Service

    return Service.get_by_id(service_id).holder_id


def test_dir3_holder_switch_replaces_previous_atomically(admin, ids):
    from webapp.models import Contact

    line = ids["fixed_paris"]  # Claire holds it
    arthur = Contact.get(Contact.first_name == "Arthur").id
    assert post(admin, f"/services/{line}/contacts", {"contact_id": str(arthur)}).status_code \
        == 303
    response = post(admin, f"/services/{line}/titulaire", {"holder": str(arthur)})
    assert response.status_code == 303
    assert _holder(line) == arthur
    body = text(admin.client.get(f"/services/{line}"))
    assert body.count('type="radio" name="holder"') == 3  # Claire, Arthur, "Aucun"
    assert body.count("checked") == 1
    [event] = audit_details("service.holder_changed")
    assert event["old"] == ids["contact_paris"] and event["new"] == arthur


def test_dir3_holder_must_be_an_associated_contact(admin, ids):
    line = ids["fixed_paris"]
    stranger = ids["contact_bordeaux"]
    response = post(admin, f"/services/{line}/titulaire", {"holder": str(stranger)})
    assert response.status_code == 400
    assert "l'un des contacts associés" in text(response)
    assert _holder(line) == ids["contact_paris"]


def test_dir3_concurrent_switches_leave_exactly_one_associated_holder(app, admin, ids):
    from webapp.db import db
    from webapp.models import Contact, ServiceContact
    from webapp.models import Service as S
    from webapp.services.actor import Actor
    from webapp.services.holders import set_holder

    line = ids["fixed_paris"]
    others = [c.id for c in Contact.select().where(Contact.first_name.in_(
        ["Arthur", "Camille", "Emma", "Hugo"]))]
    for cid in others:
        ServiceContact.create(service=line, contact=cid)
    errors = []

    def switch(cid):
        try:
            with db.connection_context():
                set_holder(S.get_by_id(line), cid, actor=Actor.system())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=switch, args=(c,)) for c in others * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _holder(line) in others


def test_dir3_dissociating_the_holder_clears_it_with_a_warning(admin, ids):
    from webapp.models import ServiceContact

    line = ids["fixed_lyon"]
    response = post(admin, f"/services/{line}/contacts/retirer",
                    {"contact_id": str(ids["contact_lyon"])})
    assert response.status_code == 303
    assert _holder(line) is None
    assert not ServiceContact.select().where(ServiceContact.service == line).exists()
    page = text(admin.client.get(f"/services/{line}"))
    assert "C&#39;était son titulaire" in page or "C'était son titulaire" in page


def test_dir3_welcome_number_has_no_holder(admin, ids):
    response = post(admin, f"/services/{ids['welcome']}/titulaire",
                    {"holder": str(ids["contact_paris"])})
    assert response.status_code == 400
    assert _holder(ids["welcome"]) is None


def test_dir2_service_list_filters_by_type_and_site_subtree(admin, ids):
    body = admin.client.get(f"/services?type=fixed&site={ids['site_lyon']}").get_data(
        as_text=True)
    assert "01 00 00 01 02" in body and "01 00 00 01 08" in body  # Lyon and Entrepôt below it
    assert "01 00 00 01 01" not in body and "06 00 00 01 11" not in body
    body = text(admin.client.get("/services?type=welcome"))
    assert "01 00 00 00 01" in body and "01 00 00 01 01" not in body


def test_dir2_associate_contact_search_lists_candidates(admin, ids):
    line = ids["fixed_lyon"]
    response = admin.client.get(f"/services/{line}?q=moreau",
                                headers={"HX-Request": "true", "HX-Target": "candidates"})
    body = text(response)
    assert body.lstrip().startswith('<div id="candidates">') and "Emma Moreau" in body


def test_dir2_equipment_mac_validated_normalised_and_unique(admin, ids):
    from webapp.models import Equipment

    data = {"model": "Yealink T31P", "mac": "00-15-65-aa-bb-cc", "label": "Salle",
            "line_id": str(ids["fixed_lyon"]), "site_id": str(ids["site_lyon"])}
    assert post(admin, "/services/equipements/nouveau", data).status_code == 303
    phone = Equipment.get(Equipment.mac == "00:15:65:AA:BB:CC")
    assert phone.line_id == ids["fixed_lyon"]
    count = Equipment.select().count()
    bad = post(admin, "/services/equipements/nouveau", dict(data, mac="00:15:65:aa:bb:cc"))
    assert bad.status_code == 400 and "déjà cette adresse MAC" in text(bad)
    bad = post(admin, "/services/equipements/nouveau", dict(data, mac="nope", model="X"))
    body = text(bad)
    assert "Adresse MAC invalide" in body and "Choisissez un modèle" in body
    assert 'value="nope"' in body
    assert Equipment.select().count() == count


def test_dir4_softphone_regeneration_revokes_previous(admin, ids, demo):
    from webapp.models import SoftphoneCredential
    from webapp.services.softphone import verify

    line = ids["fixed_lyon"]
    first = text(shown(admin, post(admin, f"/services/{line}/keyyo-phone")))
    login1, secret1 = _issued(first)
    assert verify(login1, secret1)
    assert secret1 not in text(admin.client.get(f"/services/{line}"))
    second = text(shown(admin, post(admin, f"/services/{line}/keyyo-phone", {"confirm": "1"})))
    login2, secret2 = _issued(second)
    assert not verify(login1, secret1) and verify(login2, secret2)
    rows = list(SoftphoneCredential.select().where(SoftphoneCredential.service == line))
    assert len(rows) == 2 and sum(r.revoked_at is None for r in rows) == 1
    assert all(secret not in r.secret_hash for r in rows for secret in (secret1, secret2))
    events = audit_details("softphone.generated")
    assert [e["revoked"] for e in events] == [0, 1]
    assert all(secret1 not in str(e) and secret2 not in str(e) for e in events)


def test_dir4_softphone_only_for_fixed_lines(admin, ids):
    assert post(admin, f"/services/{ids['mobile_paris']}/keyyo-phone").status_code == 404


def shown(admin, response):
    """The page the post/redirect/get of a generation leads to (UI-1)."""
    assert response.status_code == 303
    return admin.client.get(response.headers["Location"])


def _issued(html: str) -> tuple[str, str]:
    import re

    login = re.search(r"<dt>Identifiant</dt><dd><code>([^<]+)</code>", html).group(1)
    secret = re.search(r'id="softphone-secret">([^<]+)<', html).group(1)
    return login, secret

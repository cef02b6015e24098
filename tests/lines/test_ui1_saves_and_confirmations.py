"""UI-1: every HTMX save answers in place; every destructive action asks for confirmation
(one pattern, works without JS); credentials are shown once by post/redirect/get."""

from __future__ import annotations

import html

from tests.lines.audio_files import wav_bytes
from tests.lines.test_audio_library import URL as AUDIO_URL
from tests.lines.test_audio_library import send
from webapp.models import AudioFile, ForwardingProfile, Role, SoftphoneCredential


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_ui1_queue_form_saves_in_place_and_leaves_no_message_for_a_later_page(admin, ids):
    line = ids["fixed_paris"]
    page = f"/services/{line}/ligne"
    response = admin.post(page + "/file-accueil", {"backup_number": "+33 (0)6 12 34 56 78"},
                          token_from=page,
                          headers={"HX-Request": "true", "HX-Target": "file-accueil"})
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    body = text(response)
    assert body.lstrip().startswith('<section class="card" id="file-accueil"')
    assert "Paramètres d'appels du numéro d'accueil enregistrés." in body
    assert 'value="06 12 34 56 78"' in body  # stored +33612345678, shown national
    later = text(admin.client.get("/"))
    assert "enregistrés" not in later
    # the same form without JS: post/redirect/get, the message on the line's page
    response = admin.post(page + "/file-accueil", {"backup_number": ""}, token_from=page)
    assert response.status_code == 303
    assert "enregistrés" in text(admin.client.get(response.headers["Location"]))


def test_ui1_refused_queue_form_has_an_error_summary_to_focus(admin, ids):
    page = f"/services/{ids['fixed_paris']}/ligne"
    response = admin.post(page + "/file-accueil", {"backup_number": "12"}, token_from=page,
                          headers={"HX-Request": "true", "HX-Target": "file-accueil"})
    assert response.status_code == 400
    assert 'role="alert" id="form-error"' in text(response)


def test_ui1_softphone_regeneration_confirmed_secret_shown_once_reload_safe(admin, ids):
    line = ids["fixed_lyon"]
    first = admin.post(f"/services/{line}/keyyo-phone", token_from="/compte")
    assert first.status_code == 303  # nothing to revoke yet: no confirmation needed
    shown = admin.client.get(first.headers["Location"])
    assert 'id="softphone-secret"' in text(shown) and shown.headers["Cache-Control"] == "no-store"
    again = admin.client.get(first.headers["Location"])  # F5: nothing regenerated, no secret
    assert 'id="softphone-secret"' not in text(again) and "déjà été affichés" in text(again)
    assert SoftphoneCredential.select().where(SoftphoneCredential.service == line).count() == 1
    detail = text(admin.client.get(f"/services/{line}"))
    assert f'class="button danger" href="/services/{line}/keyyo-phone"' in detail
    confirm = text(admin.client.get(f"/services/{line}/keyyo-phone"))
    assert "l'appareil qui les utilise est déconnecté" in confirm
    assert 'name="confirm" value="1" required' in confirm and 'class="danger"' in confirm
    refused = admin.post(f"/services/{line}/keyyo-phone", token_from="/compte")
    assert refused.status_code == 400 and "Cochez « Je confirme »" in text(refused)
    assert SoftphoneCredential.select().where(SoftphoneCredential.service == line).count() == 1
    done = admin.post(f"/services/{line}/keyyo-phone", {"confirm": "1"}, token_from="/compte")
    assert done.status_code == 303
    assert SoftphoneCredential.select().where(SoftphoneCredential.service == line).count() == 2


def test_ui1_profile_and_audio_deletion_ask_for_confirmation(admin, ids):
    line = ids["fixed_paris"]
    page = f"/services/{line}/ligne"
    absence = ForwardingProfile.get((ForwardingProfile.service == line)
                                    & (ForwardingProfile.name == "Absence"))
    listing = text(admin.client.get(page))
    assert f'class="button danger small" href="{page}/renvois/{absence.id}/supprimer"' in listing
    confirm = admin.client.get(f"{page}/renvois/{absence.id}/supprimer")
    assert confirm.status_code == 200 and "Supprimer le profil « Absence » ?" in text(confirm)
    refused = admin.post(f"{page}/renvois/{absence.id}/supprimer", token_from=page)
    assert refused.status_code == 400 and ForwardingProfile.get_or_none(
        ForwardingProfile.id == absence.id) is not None
    send(admin, wav_bytes(0.3), "a.wav", name="Annonce test")
    audio = AudioFile.get(AudioFile.name == "Annonce test")
    assert "Supprimer le fichier « Annonce test » ?" in text(
        admin.client.get(f"{AUDIO_URL}/{audio.id}/supprimer"))
    refused = admin.post(f"{AUDIO_URL}/{audio.id}/supprimer", token_from=AUDIO_URL)
    assert refused.status_code == 400 and AudioFile.get_or_none(AudioFile.id == audio.id)
    done = admin.post(f"{AUDIO_URL}/{audio.id}/supprimer", {"confirm": "1"}, token_from=AUDIO_URL)
    assert done.status_code == 303 and AudioFile.get_or_none(AudioFile.id == audio.id) is None


def test_ui1_role_removal_and_access_removal_look_dangerous(admin, demo):
    role = Role.select().where((Role.account == demo.account) & ~Role.builtin).first()
    form = text(admin.client.get(f"/preferences/acces/roles/{role.id}"))
    assert f'class="button danger" href="/preferences/acces/roles/{role.id}/supprimer"' in form


def test_ui1_folder_deletion_unconfirmed_says_so_in_place(admin, demo):
    from webapp.models.core import Folder

    folder = Folder.create(account=demo.account, name="Fournisseurs test")
    response = admin.post(f"/annuaire/dossiers/{folder.id}/supprimer", {"dossier": folder.id},
                          token_from="/annuaire/dossiers")
    assert response.status_code == 400
    page = text(response)
    assert '<h2 id="contacts-title">Fournisseurs test</h2>' in page
    assert 'role="alert" id="form-error">Confirmez la suppression' in page
    assert Folder.get_or_none(Folder.id == folder.id) is not None

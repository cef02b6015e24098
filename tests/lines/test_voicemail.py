"""LINE-2 voicemail: on/off, greeting, PIN (hashed, not trivial), e-mail notification."""

from __future__ import annotations

import json

import pytest

from tests.lines.audio_files import wav_bytes
from tests.lines.conftest import files_under
from webapp.models import AudioFile, AuditEvent, VoicemailSettings
from webapp.services.passwords import verify_password


def url(service_id: int) -> str:
    return f"/services/{service_id}/ligne/messagerie"


def vm(service_id: int) -> VoicemailSettings | None:
    return VoicemailSettings.get_or_none(VoicemailSettings.service == service_id)


def post(b, service_id, data, files=None):
    data = dict(data)
    if files:
        data.update(files)
    return b.post(url(service_id), data, content_type="multipart/form-data")


def test_line2_enable_with_pin_stored_hashed_never_logged(admin, ids):
    lyon = ids["fixed_lyon"]
    assert vm(lyon) is None
    response = post(admin, lyon, {"enabled": "1", "greeting": "default", "pin": "4829",
                                  "pin_confirm": "4829"})
    assert response.status_code == 303
    row = vm(lyon)
    assert row.enabled and row.greeting_audio_id is None
    assert row.pin_hash.startswith("$argon2id$") and "4829" not in row.pin_hash
    assert verify_password(row.pin_hash, "4829")
    event = AuditEvent.get(AuditEvent.kind == "line.voicemail.updated")
    assert "4829" not in event.detail and "argon2" not in event.detail
    detail = json.loads(event.detail)
    assert detail["before"]["enabled"] is False and detail["after"]["enabled"] is True
    assert detail["pin_changed"] is True
    page = admin.client.get(f"/services/{lyon}/ligne").get_data(as_text=True)
    assert "Activée" in page


def test_line2_enabling_needs_a_pin_and_a_set_pin_is_kept_when_left_blank(admin, ids):
    lyon = ids["fixed_lyon"]
    response = post(admin, lyon, {"enabled": "1", "greeting": "default"})
    assert response.status_code == 400
    assert "Choisissez un code PIN" in response.get_data(as_text=True)
    assert vm(lyon) is None
    post(admin, lyon, {"enabled": "1", "greeting": "default", "pin": "4829",
                       "pin_confirm": "4829"})
    first = vm(lyon).pin_hash
    assert post(admin, lyon, {"enabled": "1", "greeting": "default"}).status_code == 303
    assert vm(lyon).pin_hash == first


@pytest.mark.parametrize("pin", ["0000", "1111", "1234", "4321", "123456", "654321", "7890",
                                 "1212", "121212", "123123", "0102"])
def test_line2_trivial_pins_refused(admin, ids, pin):
    # 0102 is the end of Lucas's line number, +33100000102.
    response = post(admin, ids["fixed_lyon"], {"enabled": "1", "greeting": "default",
                                               "pin": pin, "pin_confirm": pin})
    assert response.status_code == 400
    assert "trop facile à deviner" in response.get_data(as_text=True)
    assert vm(ids["fixed_lyon"]) is None


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "48 29", "４８２９"])
def test_line2_pin_must_be_4_to_6_digits(admin, ids, pin):
    response = post(admin, ids["fixed_lyon"], {"enabled": "1", "greeting": "default",
                                               "pin": pin, "pin_confirm": pin})
    assert response.status_code == 400
    assert "de 4 à 6 chiffres" in response.get_data(as_text=True)


def test_line2_pin_confirmation_must_match(admin, ids):
    response = post(admin, ids["fixed_lyon"], {"enabled": "1", "greeting": "default",
                                               "pin": "4829", "pin_confirm": "4828"})
    assert response.status_code == 400
    assert "ne correspondent pas" in response.get_data(as_text=True)


def test_line2_notification_email_must_belong_to_a_contact(admin, ids):
    lyon = ids["fixed_lyon"]
    base = {"enabled": "1", "greeting": "default", "pin": "4829", "pin_confirm": "4829"}
    response = post(admin, lyon, {**base, "notify_email": "pirate@ailleurs.example",
                                  "attach_message": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "n&#39;appartient à aucun contact" in page or "n'appartient à aucun contact" in page
    assert 'value="pirate@ailleurs.example"' in page  # typed value kept
    assert 'id="f-attach_message" checked' in page
    assert vm(lyon) is None
    # A contact's address, typed in another case, is accepted and stored as in the directory.
    response = post(admin, lyon, {**base, "notify_email": "Chloe.Lefevre@Atelier-Dupont.example",
                                  "attach_message": "1", "delete_after_send": "1"})
    assert response.status_code == 303
    row = vm(lyon)
    assert row.notify_email == "chloe.lefevre@atelier-dupont.example"
    assert row.attach_message and row.delete_after_send


def test_line2_notification_email_of_another_company_refused(admin, other_admin, ids):
    response = post(admin, ids["fixed_lyon"], {
        "enabled": "1", "greeting": "default", "pin": "4829", "pin_confirm": "4829",
        "notify_email": "admin@autre.example"})
    assert response.status_code == 400


def test_line2_delete_after_sending_only_with_the_message_attached(admin, ids):
    response = post(admin, ids["fixed_lyon"], {
        "enabled": "1", "greeting": "default", "pin": "4829", "pin_confirm": "4829",
        "notify_email": "lucas.petit@atelier-dupont.example", "delete_after_send": "1"})
    assert response.status_code == 400
    assert "joint à l" in response.get_data(as_text=True)


def test_line2_greeting_uploaded_in_the_form_is_stored_and_used(admin, ids, data_dir):
    lyon = ids["fixed_lyon"]
    response = post(admin, lyon, {"enabled": "1", "greeting": "custom", "pin": "4829",
                                  "pin_confirm": "4829"},
                    {"greeting_file": (__import__("io").BytesIO(wav_bytes(1.5)),
                                       "accueil lucas.wav")})
    assert response.status_code == 303
    row = vm(lyon)
    audio = AudioFile.get_by_id(row.greeting_audio_id)
    assert audio.name == "accueil lucas" and audio.format == "wav"
    assert audio.duration_ms == 1500 and audio.kind == "announcement"
    assert (data_dir / "audio" / str(audio.account_id) / audio.storage_name).is_file()


def test_line2_greeting_from_the_library_and_back_to_default(admin, ids, actor):
    from webapp.services.audio import upload

    audio = upload(filename="a.wav", data=wav_bytes(0.5), name="Accueil", kind="announcement",
                   actor=actor)
    lyon = ids["fixed_lyon"]
    base = {"enabled": "1", "pin": "4829", "pin_confirm": "4829"}
    assert post(admin, lyon, {**base, "greeting": "custom"}).status_code == 400
    assert post(admin, lyon, {**base, "greeting": "custom",
                              "greeting_audio": str(audio.id)}).status_code == 303
    assert vm(lyon).greeting_audio_id == audio.id
    assert post(admin, lyon, {"enabled": "1", "greeting": "default"}).status_code == 303
    assert vm(lyon).greeting_audio_id is None


def test_line2_bad_greeting_or_bad_field_writes_nothing(admin, ids, data_dir):
    import io

    lyon = ids["fixed_lyon"]
    before_files, before_rows = files_under(data_dir), AudioFile.select().count()
    response = post(admin, lyon, {"enabled": "1", "greeting": "custom", "pin": "4829",
                                  "pin_confirm": "4829"},
                    {"greeting_file": (io.BytesIO(b"MZ\x90\x00 not audio" * 20), "virus.wav")})
    assert response.status_code == 400
    assert "Format non reconnu" in response.get_data(as_text=True)
    # A valid sound, but another field is wrong: the sound is not kept either.
    response = post(admin, lyon, {"enabled": "1", "greeting": "custom", "pin": "0000",
                                  "pin_confirm": "0000"},
                    {"greeting_file": (io.BytesIO(wav_bytes(1)), "ok.wav")})
    assert response.status_code == 400
    assert "sélectionnez-le à nouveau" in response.get_data(as_text=True)
    assert files_under(data_dir) == before_files
    assert AudioFile.select().count() == before_rows and vm(lyon) is None


def test_line2_cannot_turn_off_while_a_profile_forwards_to_voicemail(admin, ids):
    paris = ids["fixed_paris"]  # demo: "Par défaut" → voicemail after 20 s
    response = post(admin, paris, {"greeting": "default"})
    assert response.status_code == 400
    assert "« Par défaut »" in response.get_data(as_text=True)
    assert vm(paris).enabled


def test_line2_scope_and_tenancy(restricted, other_admin, ids):
    assert restricted.client.get(url(ids["fixed_paris"])).status_code == 404
    assert restricted.client.get(url(ids["fixed_lyon"])).status_code == 200
    assert other_admin.client.get(url(ids["fixed_lyon"])).status_code == 404

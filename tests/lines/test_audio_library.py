"""WN-5 audio library: checked by content, size-limited, stored outside the web root,
served to the account only, renamed, deleted only when unused."""

from __future__ import annotations

import io
import struct

import pytest

from tests.lines.audio_files import mp3_bytes, wav_bytes
from tests.lines.conftest import files_under
from webapp.models import AudioFile, AuditEvent, VoicemailSettings
from webapp.services import audio as audio_service
from webapp.services.errors import FormError

URL = "/configurer/audio"


def send(b, data: bytes, filename: str, name: str = "", kind: str = "announcement"):
    """A multipart upload, encoded in memory (werkzeug's test client would spool a big
    body to a temporary file it never closes)."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    stream, length, boundary = stream_encode_multipart(
        {"file": FileStorage(io.BytesIO(data), filename=filename), "name": name, "kind": kind,
         "csrf_token": b.token(URL)}, use_tempfile=False)
    return b.client.post(URL, data=stream.getvalue(),
                         content_type=f"multipart/form-data; boundary={boundary}")


def test_wn5_upload_wav_duration_read_stored_outside_web_root(admin, data_dir):
    response = send(admin, wav_bytes(2.25), "Annonce fermeture.wav", kind="announcement")
    assert response.status_code == 303
    audio = AudioFile.get(AudioFile.name == "Annonce fermeture")
    assert (audio.name, audio.format, audio.duration_ms) == ("Annonce fermeture", "wav", 2250)
    path = data_dir / "audio" / str(audio.account_id) / audio.storage_name
    assert path.read_bytes() == wav_bytes(2.25)
    assert "Annonce" not in audio.storage_name and "static" not in str(path)
    page = admin.client.get(URL).get_data(as_text=True)
    assert "Annonce fermeture" in page and "2\u202fs" in page and "<audio controls" in page
    assert AuditEvent.select().where((AuditEvent.kind == "audio.uploaded")
                                     & AuditEvent.detail.contains("Annonce fermeture")).count() == 1


def test_wn5_upload_mp3_by_frames_duration(admin):
    response = send(admin, mp3_bytes(100), "musique.mp3", name="Musique d'attente",
                    kind="music")
    assert response.status_code == 303
    audio = AudioFile.get(AudioFile.name == "Musique d'attente")
    assert (audio.format, audio.kind, audio.content_type) == ("mp3", "music", "audio/mpeg")
    assert audio.duration_ms == 2612  # 100 × 1152 / 44100 s
    assert audio_service.inspect(mp3_bytes(50, id3=False)).duration_ms == 1306


def test_wn5_format_is_judged_by_content_not_by_extension(admin):
    assert send(admin, wav_bytes(1), "vraiment-un-wav.mp3", name="A").status_code == 303
    assert AudioFile.get(AudioFile.name == "A").format == "wav"
    response = send(admin, b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"not mpeg at all" * 40,
                    "faux.mp3", name="B")
    assert response.status_code == 400 and "Format non reconnu" in response.get_data(as_text=True)


def test_wn5_non_pcm_wav_duration_from_its_header():
    """8 kHz µ-law (format 7), common for telephony: `wave` cannot read it, the chunks can."""
    samples = bytes(16000)  # 2 s at 8000 bytes/s
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt \
        + b"data" + struct.pack("<I", len(samples)) + samples
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    inspected = audio_service.inspect(data)
    assert (inspected.format, inspected.duration_ms) == ("wav", 2000)


@pytest.mark.parametrize("case", ["magic", "oversize", "empty", "traversal"])
def test_wn5_bad_uploads_refused_nothing_written(admin, data_dir, case):
    cases = {
        "magic": (b"GIF89a" + bytes(2000), "photo.wav", "Format non reconnu"),
        "oversize": (wav_bytes(1) + bytes(audio_service.MAX_BYTES), "long.wav", "5 Mo"),
        "empty": (b"", "vide.wav", "Le fichier est vide."),
        "traversal": (wav_bytes(1), "../../x.wav", "Nom de fichier non valide"),
    }
    data, filename, message = cases[case]
    rows = AudioFile.select().count()
    before = files_under(data_dir)
    around = files_under(data_dir.parent)
    response = send(admin, data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert AudioFile.select().count() == rows
    assert files_under(data_dir) == before and files_under(data_dir.parent) == around
    assert not (data_dir.parent.parent / "x.wav").exists()


@pytest.mark.parametrize("filename", ["..\\..\\x.wav", "/etc/x.wav", "a/b.wav", "..", "x\x00.wav"])
def test_wn5_path_like_file_names_refused(filename):
    """The werkzeug test client mangles backslashes, so the check is exercised directly."""
    with pytest.raises(FormError) as refused:
        audio_service.check_upload(filename, wav_bytes(0.5))
    assert "Nom de fichier non valide" in refused.value.errors["file"]


def test_wn5_size_limit_is_stated_in_the_form(admin):
    page = admin.client.get(URL).get_data(as_text=True)
    assert "WAV ou MP3, 5 Mo maximum" in page
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page


def test_wn5_file_served_with_its_type_to_the_account_only(admin, restricted, other_admin,
                                                         new_browser):
    send(admin, wav_bytes(1), "a.wav", name="Son")
    audio = AudioFile.get(AudioFile.name == "Son")
    file_url = f"{URL}/{audio.id}/fichier"
    response = admin.client.get(file_url)
    assert response.status_code == 200
    assert response.mimetype == "audio/wav" and response.data == wav_bytes(1)
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Seeking in the browser's player: byte ranges.
    ranged = admin.client.get(file_url, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.data == b"RIFF"
    assert restricted.client.get(file_url).status_code == 200  # same company
    assert other_admin.client.get(file_url).status_code == 404
    assert other_admin.client.get(f"{URL}/999999/fichier").status_code == 404
    anonymous = new_browser().client.get(file_url)
    assert anonymous.status_code in (302, 303) and "/connexion" in anonymous.headers["Location"]


def test_wn5_rename_and_duplicate_name_refused(admin, other_admin):
    send(admin, wav_bytes(1), "a.wav", name="Premier")
    send(admin, wav_bytes(1), "b.wav", name="Second")
    first = AudioFile.get(AudioFile.name == "Premier")
    response = admin.post(f"{URL}/{first.id}/renommer", {"name": "Second"}, token_from=URL)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "s&#39;appelle déjà" in page or "s'appelle déjà" in page
    assert AudioFile.get_by_id(first.id).name == "Premier"
    response = admin.post(f"{URL}/{first.id}/renommer", {"name": "Accueil  été "}, token_from=URL)
    assert response.status_code == 303
    assert AudioFile.get_by_id(first.id).name == "Accueil été"
    assert other_admin.post(f"{URL}/{first.id}/renommer", {"name": "x"},
                            token_from="/compte").status_code == 404


def _greeting_of_claire(admin, ids, name: str):
    """An uploaded file that Claire's voicemail (Paris) plays as its greeting."""
    send(admin, wav_bytes(1), "a.wav", name=name)
    audio = AudioFile.get(AudioFile.name == name)
    VoicemailSettings.update(greeting_audio=audio.id).where(
        VoicemailSettings.service == ids["fixed_paris"]).execute()
    return audio


def test_wn5_delete_refused_while_used_lists_where(admin, ids, data_dir):
    audio = _greeting_of_claire(admin, ids, "Accueil Claire")
    response = admin.post(f"{URL}/{audio.id}/supprimer", {"confirm": "1"}, token_from=URL)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "ne peut pas être supprimé" in page
    assert "Message d&#39;accueil de la messagerie vocale — Ligne Claire Dubois" in page \
        or "Message d'accueil de la messagerie vocale — Ligne Claire Dubois" in page
    assert AudioFile.get_or_none(AudioFile.id == audio.id) is not None
    # Unused again: deleted, row and file.
    VoicemailSettings.update(greeting_audio=None).where(
        VoicemailSettings.service == ids["fixed_paris"]).execute()
    path = data_dir / "audio" / str(audio.account_id) / audio.storage_name
    assert path.exists()
    deleted = admin.post(f"{URL}/{audio.id}/supprimer", {"confirm": "1"}, token_from=URL)
    assert deleted.status_code == 303
    assert AudioFile.get_or_none(AudioFile.id == audio.id) is None and not path.exists()


def test_wn5_uses_outside_the_scope_are_not_named(admin, restricted, ids):
    audio = _greeting_of_claire(admin, ids, "Accueil siège")
    response = restricted.post(f"{URL}/{audio.id}/supprimer", {"confirm": "1"}, token_from=URL)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Claire" not in page.split('id="form-error"')[1].split("</div>")[0]
    assert "hors de votre périmètre" in page


def test_wn5_upload_service_refuses_unknown_kind_and_writes_nothing(actor, data_dir):
    before, rows = files_under(data_dir), AudioFile.select().count()
    with pytest.raises(FormError) as refused:
        audio_service.upload(filename="a.wav", data=wav_bytes(1), name="X", kind="sonnerie",
                             actor=actor)
    assert "kind" in refused.value.errors
    assert files_under(data_dir) == before and AudioFile.select().count() == rows

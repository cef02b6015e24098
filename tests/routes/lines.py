"""Routes of the line settings (LINE-1..3) and the audio library (WN-5).

Lines are fixed services fetched with the site scope: the demo "Responsable Lyon"
gets 404 on Claire's Paris line, another account 404 everywhere. The audio library
belongs to the account (all sites): the restricted user, who has "Gérer les
services", may use it; another account gets 404 on the demo account's files.
"""

import io

from tests.routes import Route, demo_ids, page_form


def _line(d) -> dict:
    return {"service_id": d.ids["fixed_paris"]}


def _profile(d) -> dict:
    from webapp.models import ForwardingProfile

    profile = ForwardingProfile.get((ForwardingProfile.service == d.ids["fixed_paris"])
                                    & ForwardingProfile.is_default)
    return {"service_id": d.ids["fixed_paris"], "profile_id": profile.id}


def _audio(d) -> dict:
    """A real file of the demo account, made on first use (demo data has no audio)."""
    from tests.lines.audio_files import wav_bytes
    from webapp.models import Account, AudioFile, User
    from webapp.services.actor import Actor
    from webapp.services.audio import upload
    from webapp.settings import load

    existing = AudioFile.get_or_none(AudioFile.account == d.account_id)
    if existing is None:
        account = Account.get_by_id(d.account_id)
        user = User.get_by_id(d.admin_user_id)
        assert user.account_id == account.id
        settings = load()
        existing = upload(filename="matrice.wav", data=wav_bytes(0.2), name="Matrice",
                          kind="announcement",
                          actor=Actor(user, "127.0.0.1", settings.REDIS_URL, 0, settings.DATA_DIR))
    return {"audio_id": existing.id}


def _unused_audio(d) -> dict:
    """A file of the demo account that nothing uses (the demo's own are in use)."""
    from tests.lines.audio_files import wav_bytes
    from webapp.models import Account, User
    from webapp.services.actor import Actor
    from webapp.services.audio import upload
    from webapp.settings import load

    settings = load()
    actor = Actor(User.get_by_id(d.admin_user_id), "127.0.0.1", settings.REDIS_URL, 0,
                  settings.DATA_DIR)
    assert actor.user.account_id == Account.get_by_id(d.account_id).id
    made = upload(filename="jetable.wav", data=wav_bytes(0.2), name="Jetable",
                  kind="announcement", actor=actor)
    return {"audio_id": made.id}


def _absence(d) -> dict:
    """Claire's "Absence" profile (not in force): to activate, edit or delete."""
    from webapp.models import ForwardingProfile

    profile = ForwardingProfile.get((ForwardingProfile.service == d.ids["fixed_paris"])
                                    & (ForwardingProfile.name == "Absence"))
    return {"service_id": d.ids["fixed_paris"], "profile_id": profile.id}


def _wav(d) -> dict:
    from tests.lines.audio_files import wav_bytes

    return {"file": (io.BytesIO(wav_bytes(0.2)), "accueil-matrice.wav"),
            "name": "Accueil matrice", "kind": "announcement"}


def _settings_page(d) -> str:
    return f"/services/{d.ids['fixed_paris']}/ligne"


LINE = dict(restricted=404, other=404, args=_line)
PROFILE = dict(restricted=404, other=404, args=_profile)
ABSENCE = dict(restricted=404, other=404, args=_absence)
AUDIO = dict(other=404, args=_audio)

ROUTES = [
    Route("lines.settings", **LINE),
    Route("lines.update_queue", "POST", **LINE, data=page_form(_settings_page)),
    Route("lines.new_profile", **LINE),
    Route("lines.create_profile", "POST", **LINE, data=page_form(
        lambda d: f"/services/{d.ids['fixed_paris']}/ligne/renvois/nouveau", name="Réunion")),
    Route("lines.edit_profile", **PROFILE),
    Route("lines.update_profile", "POST", **ABSENCE, data=page_form(lambda d: d.url)),
    Route("lines.activate_profile", "POST", **ABSENCE, data={"next": ""}),
    Route("lines.delete_profile", "POST", **ABSENCE, data={"confirm": "1"}),
    Route("lines.delete_profile", **PROFILE),
    Route("lines.voicemail", **LINE),
    Route("lines.update_voicemail", "POST", **LINE, data=page_form(lambda d: d.url)),
    Route("audio.index"),
    Route("audio.upload", "POST", data=_wav),
    Route("audio.file", **AUDIO),
    Route("audio.rename", "POST", **AUDIO, data={"name": "Annonce renommée"}),
    Route("audio.delete", "POST", other=404, args=_unused_audio, data={"confirm": "1"}),
    Route("audio.delete", **AUDIO),
]

__all__ = ["ROUTES", "demo_ids"]

"""Routes of the line settings (LINE-1..3) and the audio library (WN-5).

Lines are fixed services fetched with the site scope: the demo "Responsable Lyon"
gets 404 on Claire's Paris line, another account 404 everywhere. The audio library
belongs to the account (all sites): the restricted user, who has "Gérer les
services", may use it; another account gets 404 on the demo account's files.
"""

from tests.routes import Route, demo_ids


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


def _audio_in_use(d) -> dict:
    """The same file, made Claire's voicemail greeting: deleting it is refused (409) for
    everyone who may see it, so the matrix does not depend on visiting order."""
    from webapp.models import VoicemailSettings

    args = _audio(d)
    row = VoicemailSettings.get(VoicemailSettings.service == d.ids["fixed_paris"])
    if row.greeting_audio_id != args["audio_id"]:
        VoicemailSettings.update(greeting_audio=args["audio_id"]).where(
            VoicemailSettings.id == row.id).execute()
    return args


LINE = dict(restricted=404, other=404, args=_line)
PROFILE = dict(restricted=404, other=404, args=_profile)
AUDIO = dict(other=404, args=_audio)

ROUTES = [
    Route("lines.settings", **LINE),
    Route("lines.update_queue", "POST", **LINE),
    Route("lines.new_profile", **LINE),
    Route("lines.create_profile", "POST", **LINE),
    Route("lines.edit_profile", **PROFILE),
    Route("lines.update_profile", "POST", **PROFILE),
    Route("lines.activate_profile", "POST", **PROFILE),
    Route("lines.delete_profile", "POST", **PROFILE),
    Route("lines.delete_profile", **PROFILE),
    Route("lines.voicemail", **LINE),
    Route("lines.update_voicemail", "POST", **LINE),
    Route("audio.index"),
    Route("audio.upload", "POST"),
    Route("audio.file", **AUDIO),
    Route("audio.rename", "POST", **AUDIO),
    Route("audio.delete", "POST", other=404, args=_audio_in_use),
    Route("audio.delete", other=404, args=_audio_in_use),
]

__all__ = ["ROUTES", "demo_ids"]

"""LINE-2 voicemail ("Messagerie vocale") of a fixed line.

The PIN is stored only as an argon2 hash and never logged; the notification
address must be the e-mail of a contact of the account.
"""

from __future__ import annotations

import re
from pathlib import Path

from peewee import fn

from webapp.db import db
from webapp.i18n import _
from webapp.models import (
    RULES,
    TARGET_VOICEMAIL,
    AudioFile,
    Contact,
    ForwardingProfile,
    Service,
    VoicemailSettings,
    utcnow,
)
from webapp.services import audio as audio_service
from webapp.services import audit
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.passwords import hash_password

GREETING_DEFAULT = "default"
GREETING_CUSTOM = "custom"


def settings_for(service: Service) -> VoicemailSettings:
    """The line's settings; an unsaved row with the defaults (off) when never set."""
    row = VoicemailSettings.get_or_none(VoicemailSettings.service == service.id)
    return row or VoicemailSettings(service=service.id, enabled=False)


def to_form(settings: VoicemailSettings) -> dict[str, str]:
    return {
        "enabled": "1" if settings.enabled else "",
        "greeting": GREETING_CUSTOM if settings.greeting_audio_id else GREETING_DEFAULT,
        "greeting_audio": str(settings.greeting_audio_id or ""),
        "notify_email": settings.notify_email or "",
        "attach_message": "1" if settings.attach_message else "",
        "delete_after_send": "1" if settings.delete_after_send else "",
    }


def check_pin(pin: str, line_number: str = "") -> None:
    """FormError ("pin") when a PIN is refused: 4 to 6 digits, never trivial (LINE-2)."""
    if not re.fullmatch(r"[0-9]{4,6}", pin):
        raise FormError({"pin": _("Le code PIN doit comporter de 4 à 6 chiffres.")})
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    repeated = pin == (pin[:2] * 3)[:len(pin)] or pin == (pin[:3] * 2)[:len(pin)]
    digits = re.sub(r"\D", "", line_number or "")
    if steps in ({0}, {1}, {9}) or repeated or (digits and digits.endswith(pin)):
        raise FormError({"pin": _("Ce code est trop facile à deviner (comme 0000, 1234 ou la "
                                  "fin du numéro de la ligne) : choisissez-en un autre.")})


def contact_with_email(account_id: int, email: str) -> Contact | None:
    return Contact.get_or_none((Contact.account == account_id)
                               & (fn.LOWER(Contact.email) == email.lower()))


def _profiles_using_voicemail(service: Service) -> list[str]:
    condition = None
    for rule in RULES:
        term = getattr(ForwardingProfile, f"{rule}_kind") == TARGET_VOICEMAIL
        condition = term if condition is None else condition | term
    return [p.name for p in ForwardingProfile.select().where(
        (ForwardingProfile.service == service.id) & condition).order_by(ForwardingProfile.name)]


def _snapshot(settings: VoicemailSettings) -> dict:
    """Audit view: never the PIN or its hash."""
    return {"enabled": settings.enabled, "greeting_audio": settings.greeting_audio_id,
            "pin_set": bool(settings.pin_hash), "notify_email": settings.notify_email,
            "attach_message": settings.attach_message,
            "delete_after_send": settings.delete_after_send}


def update(service: Service, form: dict, *, upload: tuple[str | None, bytes] | None,
           actor: Actor) -> VoicemailSettings:
    """Validate every field (and an uploaded greeting) first; then write all in one go."""
    current = settings_for(service)
    values = {k: (form.get(k) or "").strip() for k in to_form(current)}
    errors: dict[str, str] = {}
    enabled = bool(values["enabled"])
    pin, pin_confirm = form.get("pin") or "", form.get("pin_confirm") or ""

    if pin or pin_confirm:
        try:
            check_pin(pin, service.number)
            if pin != pin_confirm:
                errors["pin_confirm"] = _("Les deux codes saisis ne correspondent pas.")
        except FormError as refused:
            errors.update(refused.errors)
    elif enabled and not current.pin_hash:
        errors["pin"] = _("Choisissez un code PIN de 4 à 6 chiffres pour consulter vos messages.")

    inspected, greeting_audio = None, None
    if values["greeting"] not in (GREETING_DEFAULT, GREETING_CUSTOM):
        errors["greeting"] = _("Choix non valide : message d'accueil par défaut ou personnalisé.")
    elif values["greeting"] == GREETING_CUSTOM:
        if upload and (upload[0] or upload[1]):
            try:
                inspected = audio_service.check_upload(*upload)
            except FormError as exc:
                errors["greeting_file"] = exc.errors["file"]
        elif values["greeting_audio"].isascii() and values["greeting_audio"].isdigit():
            greeting_audio = AudioFile.get_or_none(
                (AudioFile.id == int(values["greeting_audio"]))
                & (AudioFile.account == service.account_id))
        if inspected is None and greeting_audio is None and "greeting_file" not in errors:
            errors["greeting_audio"] = (_("Choisissez un fichier de la bibliothèque audio ou "
                                        "envoyez un fichier WAV ou MP3."))

    email = values["notify_email"]
    attach, delete_after = bool(values["attach_message"]), bool(values["delete_after_send"])
    if email and contact_with_email(service.account_id, email) is None:
        errors["notify_email"] = (_("Cette adresse n'appartient à aucun contact de votre "
                                  "entreprise : choisissez l'e-mail d'un contact de l'annuaire."))
    if delete_after and not (email and attach):
        errors["delete_after_send"] = (_("Le message ne peut être supprimé après l'envoi que s'il "
                                       "est joint à l'e-mail de notification."))
    if not enabled and current.enabled:
        using = _profiles_using_voicemail(service)
        if using:
            names = ", ".join(_("« %(name)s »", name=n) for n in using)
            errors["enabled"] = (_("Des profils de renvoi envoient des appels vers la "
                                   "messagerie (%(names)s) : changez d'abord ces renvois.",
                                   names=names))
    if errors:
        if inspected is not None or (upload and upload[1] and "greeting_file" not in errors):
            errors["greeting_file"] = (_("Le fichier n'a pas été enregistré : sélectionnez-le à "
                                       "nouveau après avoir corrigé les autres champs."))
        raise FormError(errors, values)

    before = _snapshot(current)
    written: list[Path] = []
    try:
        with db.atomic():
            if inspected is not None:
                name = _free_name(service, audio_service.label_from_filename(upload[0]))
                greeting_audio = audio_service.save_checked(
                    inspected, name=name, kind="announcement", actor=actor, written=written)
            row = VoicemailSettings.get_or_none(VoicemailSettings.service == service.id)
            row = row or VoicemailSettings(service=service.id)
            row.enabled = enabled
            row.greeting_audio = greeting_audio.id if greeting_audio else None
            if pin:
                row.pin_hash = hash_password(pin)
            row.notify_email = contact_with_email(service.account_id, email).email if email \
                else None
            row.attach_message = bool(email) and attach
            row.delete_after_send = bool(email) and delete_after
            row.updated_at = utcnow()
            row.save()
            audit.record("line.voicemail.updated", account=service.account_id,
                         actor=actor,  service=service.number, before=before,
                         after=_snapshot(row), pin_changed=bool(pin))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return row


def _free_name(service: Service, wanted: str) -> str:
    base = wanted or f"Message d'accueil {service.number}"
    name, n = base, 2
    while AudioFile.select().where((AudioFile.account == service.account_id)
                                   & (AudioFile.name == name)).exists():
        name, n = f"{base} ({n})", n + 1
    return name

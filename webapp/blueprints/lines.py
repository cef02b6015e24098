"""Line settings of a fixed line: forwarding profiles (LINE-1), voicemail (LINE-2),
queue-call flag and backup number (LINE-3). Permission "Gérer les services", site scope."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _

from webapp.extensions import htmx
from webapp.models import RULES, Contact, ForwardingProfile, Service
from webapp.navigation import lights
from webapp.rendering import confirm_page, confirmed, redirect_to, render, saved
from webapp.security import (
    current_actor,
    get_line_or_404,
    requires,
    safe_next,
    scoped_contacts,
    scoped_services,
)
from webapp.services import audio as audio_service
from webapp.services import forwarding, forwarding_form, phones, welcome_numbers
from webapp.services import voicemail as voicemail_service
from webapp.services.errors import FormError
from webapp.translate import translate

bp = Blueprint("lines", __name__, url_prefix="/services/<int:service_id>/ligne")

lights(bp, "services")


def _profile(service: Service, profile_id: int, write: bool = False) -> ForwardingProfile:
    """Id 0 is the line's default profile: virtual (unsaved) on a GET while the line has
    none stored, stored first by a change (`write`)."""
    if profile_id == 0:
        rows = forwarding.ensure_profiles(service) if write else forwarding.profiles_for(service)
        return next(p for p in rows if p.is_default)
    profile = forwarding.profile_of(service, profile_id)
    if profile is None:
        abort(404)
    return profile


def _candidates(service: Service, form) -> dict[int, Service]:
    """The lines the posted form forwards to that this person may forward to: fixed and
    mobile lines in their scope, not this one (SCALE-4: the form's few, never every line;
    the field itself is a line search, `pickers.lines`)."""
    ids = [int(raw) for raw in (form.get(f"{rule}_line", "") for rule in RULES)
           if raw.isascii() and raw.isdigit()]
    rows = scoped_services(("fixed", "mobile")).where(
        (Service.id != service.id) & Service.id.in_(ids or [0]))
    return {s.id: s for s in rows}


def _engine_warning(outcome: forwarding.ForwardingChange) -> str | None:
    if outcome.engine_changed and not outcome.engine_notified:
        return _("Modification enregistrée, mais le distributeur d'appels n'a pas pu être "
                 "prévenu : elle sera prise en compte à son prochain redémarrage.")
    return None


def _engine_flash(outcome: forwarding.ForwardingChange) -> None:
    warning = _engine_warning(outcome)
    if warning:
        flash(warning, "warning")


def _page(service: Service, status: int = 200, queue_values=None, queue_errors=None,
          page_error=None, queue_saved=None):
    profiles = forwarding.profiles_for(service)  # GET writes nothing (docs/architecture.md §5)
    vm = voicemail_service.settings_for(service)
    return render("lines/settings.html", status=status, service=service, profiles=profiles,
                  describe=forwarding.describe, vm=vm, phones=phones,
                  is_agent=welcome_numbers.is_queue_agent(service),
                  queue=queue_values or forwarding.queue_form(service),
                  queue_errors=queue_errors or {}, page_error=page_error,
                  queue_saved=queue_saved or [],
                  duration=audio_service.duration_label)


@bp.route("")
@requires("services.manage")
def settings(service_id: int):
    return _page(get_line_or_404(service_id))


@bp.route("/file-accueil", methods=["POST"])
@requires("services.manage")
def update_queue(service_id: int):
    service = get_line_or_404(service_id)
    try:
        outcome = forwarding.set_queue_settings(service, request.form, current_actor())
    except FormError as exc:
        return _page(service, 400, queue_values=exc.values, queue_errors=exc.errors)
    warning = _engine_warning(outcome)

    def in_place(message):  # UI-1: the section answers in place, with what happened
        notes = [("success", message)] + ([("warning", warning)] if warning else [])
        return _page(get_line_or_404(service.id), queue_saved=notes)

    if not htmx:
        _engine_flash(outcome)
    return saved(_("Paramètres d'appels du numéro d'accueil enregistrés."),
                 url_for("lines.settings", service_id=service.id) + "#file-accueil", in_place)


def _profile_form(service, profile, form, errors, status=200):
    return render("lines/profile_form.html", status=status, service=service, profile=profile,
                  form=form, errors=errors,
                  rules=forwarding.RULE_LABELS, kinds=forwarding.KIND_LABELS,
                  voicemail_on=voicemail_service.settings_for(service).enabled,
                  delay_min=forwarding_form.DELAY_MIN, delay_max=forwarding_form.DELAY_MAX,
                  phones=phones)


@bp.route("/renvois/nouveau")
@requires("services.manage")
def new_profile(service_id: int):
    service = get_line_or_404(service_id)
    return _profile_form(service, None, forwarding_form.forwarding_profile_to_form(None), {})


def _save_profile(service: Service, profile: ForwardingProfile | None):
    """LINE-1: the posted form as a new profile (`profile` None) or as `profile`'s change."""
    candidates = _candidates(service, request.form)
    try:
        if profile is None:
            outcome = forwarding.create_profile(service, request.form, candidates,
                                                current_actor())
        else:
            outcome = forwarding.update_profile(profile, request.form, candidates,
                                                current_actor())
    except FormError as exc:
        return _profile_form(service, profile, exc.values or request.form, exc.errors, 400)
    name = outcome.profile.name
    flash(_("Profil « %(name)s » créé.", name=name) if profile is None
          else _("Profil « %(name)s » enregistré.", name=name), "success")
    _engine_flash(outcome)  # a new profile is not in force: the engine has nothing to hear
    return redirect_to(url_for("lines.settings", service_id=service.id) + "#renvois")


@bp.route("/renvois", methods=["POST"])
@requires("services.manage")
def create_profile(service_id: int):
    return _save_profile(get_line_or_404(service_id), None)


@bp.route("/renvois/<int:profile_id>")
@requires("services.manage")
def edit_profile(service_id: int, profile_id: int):
    service = get_line_or_404(service_id)
    profile = _profile(service, profile_id)
    form = forwarding_form.forwarding_profile_to_form(profile)
    return _profile_form(service, profile, form, {})


@bp.route("/renvois/<int:profile_id>", methods=["POST"])
@requires("services.manage")
def update_profile(service_id: int, profile_id: int):
    service = get_line_or_404(service_id)
    return _save_profile(service, _profile(service, profile_id, write=True))


@bp.route("/renvois/<int:profile_id>/activer", methods=["POST"])
@requires("services.manage")
def activate_profile(service_id: int, profile_id: int):
    """One click from the line page or the directory (`next` brings the person back)."""
    service = get_line_or_404(service_id)
    profile = _profile(service, profile_id, write=True)
    back = safe_next(request.form.get("next"),
                     url_for("lines.settings", service_id=service.id) + "#renvois")
    try:
        outcome = forwarding.activate(profile, current_actor())
    except FormError as exc:
        flash(translate(exc.errors["form"]), "error")
        return redirect_to(back)
    flash(_("Le profil « %(name)s » est en vigueur.", name=profile.name), "success")
    _engine_flash(outcome)
    return redirect_to(back)


@bp.route("/renvois/<int:profile_id>/supprimer", methods=["GET", "POST"])
@requires("services.manage")
def delete_profile(service_id: int, profile_id: int):
    service = get_line_or_404(service_id)
    profile = _profile(service, profile_id, write=request.method == "POST")
    if request.method == "GET" or not confirmed():  # UI-1: one confirmation pattern
        back = url_for("lines.settings", service_id=service.id)
        return confirm_page(
            title=_("Supprimer un profil de renvoi"),
            question=_("Supprimer le profil « %(name)s » ?", name=profile.name),
            consequences=[_("Ses renvois sont perdus ; le profil en vigueur reste inchangé.")],
            action=url_for("lines.delete_profile", service_id=service.id,
                           profile_id=profile_id),
            button=_("Supprimer le profil"), cancel=back + "#renvois",
            crumbs=[(service.label or phones.display(service.number), back)],
            refused=request.method == "POST")
    try:
        forwarding.delete_forwarding_profile(profile, current_actor())
    except FormError as exc:
        return _page(service, 409, page_error=exc.errors["form"])
    return saved(_("Profil « %(name)s » supprimé.", name=profile.name),
                 url_for("lines.settings", service_id=service.id) + "#renvois")


def _voicemail_form(service, form, errors, status=200):
    return render("lines/voicemail.html", status=status, service=service, form=form,
                  errors=errors, vm=voicemail_service.settings_for(service),
                  library=audio_service.library(service.account_id),
                  max_label=audio_service.MAX_LABEL, max_bytes=audio_service.MAX_BYTES,
                  duration=audio_service.duration_label, phones=phones,
                  contact_emails=contact_emails(form.get("notify_email", "")))


def contact_emails(text: str = "", limit: int = 20) -> list[str]:
    """E-mails of contacts in scope matching `text` (SCALE-4: a few suggestions that the
    field's active search refreshes, never the 10,000 of a large directory)."""
    query = scoped_contacts().where(Contact.email.is_null(False))
    for word in (text or "").split()[:3]:
        like = f"%{word}%"
        query = query.where((Contact.email ** like) | (Contact.last_name ** like)
                            | (Contact.first_name ** like))
    return [c.email for c in query.order_by(Contact.last_name, Contact.first_name).limit(limit)]


@bp.route("/messagerie")
@requires("services.manage")
def voicemail(service_id: int):
    service = get_line_or_404(service_id)
    vm = voicemail_service.settings_for(service)
    return _voicemail_form(service, voicemail_service.to_form(vm), {})


@bp.route("/messagerie", methods=["POST"])
@requires("services.manage")
def update_voicemail(service_id: int):
    service = get_line_or_404(service_id)
    file = request.files.get("greeting_file")
    upload = None
    if file:
        upload = (file.filename, file.stream.read(audio_service.MAX_BYTES + 1))
        file.close()
    try:
        voicemail_service.update(service, request.form, upload=upload, actor=current_actor())
    except FormError as exc:
        return _voicemail_form(service, exc.values, exc.errors, 400)
    return saved(_("Messagerie vocale enregistrée."),
                 url_for("lines.settings", service_id=service.id) + "#messagerie")

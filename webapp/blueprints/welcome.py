"""Configurer > Numéros d'accueil (WN-1..4): profiles, time rules, preview.

Permission "Gérer les services" to configure; the list also serves people who only
supervise calls (links to the switchboard and statistics). Welcome numbers and agent
lines are fetched with the site scope: out of scope answers 404.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _

from webapp.i18n import N_
from webapp.models import PROFILE_TYPES, QUEUE_MODES, Service, WelcomeProfile, WelcomeTimeRule
from webapp.navigation import lights
from webapp.rendering import redirect_to, render
from webapp.security import (
    current_access,
    current_actor,
    get_welcome_number_or_404,
    requires,
    scoped_services,
)
from webapp.services import phones, routing_preview
from webapp.services import routing_profiles as profiles
from webapp.services import time_rules as rules
from webapp.services import welcome_numbers as numbers
from webapp.services.errors import FormError
from webapp.translate import translate

bp = Blueprint("welcome", __name__, url_prefix="/configurer/numeros-accueil")

lights(bp, "configure")


def _profile(service_id: int, profile_id: int) -> tuple[Service, WelcomeProfile]:
    """A welcome number in scope and one of its routing profiles (else 404)."""
    service = get_welcome_number_or_404(service_id)
    profile = numbers.profile_of(service, profile_id)
    if profile is None:
        abort(404)
    return service, profile


def _allowed_lines(ids) -> dict[int, Service]:
    """WN-4: which of these line ids are the account's internal fixed lines within this
    person's site scope (SCALE-4: the form's few, never every line; the field that adds
    one is a line search, `pickers.lines`)."""
    wanted = [int(i) for i in ids if str(i).isascii() and str(i).isdigit()]
    rows = scoped_services(("fixed",)).where(Service.id.in_(wanted or [0]))
    return {s.id: s for s in rows}


def _form_line_ids(form: dict) -> list[str]:
    return [row["line"] for row in form["lines"]]


def _done(service: Service, outcome: numbers.RoutingChange, message: str, anchor: str):
    """After a change: say so (and whether the engine has it), back to the number's page."""
    flash(message, "success")
    if not outcome.engine_notified:
        flash(_("Modification enregistrée, mais le distributeur d'appels n'a pas pu être "
                "prévenu : elle sera prise en compte à son prochain redémarrage."), "warning")
    return redirect_to(url_for("welcome.number", service_id=service.id) + anchor)


def _change(service: Service, change, message: str, anchor: str, refused_status: int):
    """A change of the whole number (no form): done, or the number's page says why not."""
    try:
        outcome = change(current_actor())
    except FormError as refused:
        return _number_page(service, refused_status, page_error=" ".join(
            translate(m) for m in refused.errors.values()))
    return _done(service, outcome, message, anchor)


@bp.route("")
def index():
    access = current_access()
    if not (access.can("services.manage") or access.can("calls.supervise")):
        abort(403, description=[N_("Gérer les services"), N_("Superviser les appels")])
    numbers = list(scoped_services(("welcome",)).order_by(Service.number))
    return render("welcome/index.html", numbers=numbers, phones=phones,
                  can_manage=access.can("services.manage"),
                  can_supervise=access.can("calls.supervise"))


def _number_page(service: Service, status: int = 200, rule_values=None, rule_errors=None,
                 page_error=None, when: dt.datetime | None = None, preview_error=None,
                 editing_rule: WelcomeTimeRule | None = None):
    answering, at = routing_preview.preview(service, when)
    profiles = numbers.profiles_of(service)
    return render("welcome/number.html", status=status, service=service, profiles=profiles,
                  rules=numbers.rules_of(service), describe_rule=numbers.describe_rule,
                  entry_level=numbers.entry_level_ids(service.id), types=PROFILE_TYPES,
                  lines_of=numbers.lines_of, keys_of=numbers.keys_of, phones=phones,
                  rule=rule_values or rules.rule_form(), rule_errors=rule_errors or {},
                  page_error=page_error, days=numbers.DAY_NAMES, answering=answering, at=at,
                  preview_error=preview_error, editing_rule=editing_rule)


@bp.route("/<int:service_id>")
@requires("services.manage")
def number(service_id: int):
    service = get_welcome_number_or_404(service_id)
    when, error = None, None
    if request.args.get("date") or request.args.get("time"):
        try:
            when = dt.datetime.combine(dt.date.fromisoformat(request.args.get("date", "")),
                                       dt.time.fromisoformat(request.args.get("time") or "00:00"))
        except ValueError:
            error = _("Saisissez une date et une heure valides (ex. 25/12/2026 à 10:00).")
    return _number_page(service, 400 if error else 200, when=when, preview_error=error)


def _form_page(service, profile, form, errors, status=200):
    entry_level = numbers.entry_level_ids(service.id)
    others = [p for p in numbers.profiles_of(service) if not profile or p.id != profile.id]
    known = _allowed_lines(_form_line_ids(form))
    if profile:
        known.update({r.line_id: r.line for r in numbers.lines_of(profile)})
    return render("welcome/profile_form.html", status=status, service=service, profile=profile,
                  form=form, errors=errors, types=PROFILE_TYPES, modes=QUEUE_MODES,
                  audio=numbers.audio_choices(service.account_id), known=known,
                  others=others, phones=phones, menu_keys=numbers.MENU_KEYS,
                  key_field=profiles.key_field,
                  is_entry_level=(profile is None and not numbers.profiles_of(service))
                  or (profile is not None and profile.id in entry_level),
                  bounds=dict(size=profiles.SIZE, rest=profiles.REST, ring=profiles.RING,
                              priority=profiles.PRIORITY, weight=profiles.WEIGHT,
                              timeout=profiles.TIMEOUT))


@bp.route("/<int:service_id>/profils/nouveau")
@requires("services.manage")
def new_profile(service_id: int):
    service = get_welcome_number_or_404(service_id)
    form = profiles.routing_profile_to_form(None, request.args.get("type", ""))
    return _form_page(service, None, form, {})


@bp.route("/<int:service_id>/profils/<int:profile_id>")
@requires("services.manage")
def edit_profile(service_id: int, profile_id: int):
    service, profile = _profile(service_id, profile_id)
    return _form_page(service, profile, profiles.routing_profile_to_form(profile), {})


def _save(service: Service, profile: WelcomeProfile | None):
    form = profiles.form_from_post(request.form)
    op = request.form.get("op", "save")
    if op != "save":  # add / remove / reorder a line in place: nothing is saved
        add = request.form.get("add_line", "")
        if add and op == "add" and (not add.isdigit() or int(add) not in _allowed_lines([add])):
            abort(404)
        return _form_page(service, profile, profiles.apply_row_op(form, op, add), {})
    try:
        outcome = profiles.save_routing_profile(service, profile, form,
                                                _allowed_lines(_form_line_ids(form)),
                                                current_actor())
    except profiles.OutOfScope:
        abort(404)
    except FormError as exc:
        return _form_page(service, profile, form, exc.errors, 400)
    return _done(service, outcome,
                 _("Profil « %(name)s » enregistré.", name=outcome.profile.name), "#profils")


@bp.route("/<int:service_id>/profils", methods=["POST"])
@requires("services.manage")
def create_profile(service_id: int):
    return _save(get_welcome_number_or_404(service_id), None)


@bp.route("/<int:service_id>/profils/<int:profile_id>", methods=["POST"])
@requires("services.manage")
def update_profile(service_id: int, profile_id: int):
    return _save(*_profile(service_id, profile_id))


@bp.route("/<int:service_id>/profils/<int:profile_id>/entree", methods=["POST"])
@requires("services.manage")
def set_entry(service_id: int, profile_id: int):
    service, profile = _profile(service_id, profile_id)
    return _change(service, lambda actor: profiles.set_entry(service, profile, actor),
                   _("« %(name)s » est maintenant le profil d'entrée.", name=profile.name),
                   "#profils", 400)


@bp.route("/<int:service_id>/profils/<int:profile_id>/supprimer", methods=["POST"])
@requires("services.manage")
def delete_profile(service_id: int, profile_id: int):
    service, profile = _profile(service_id, profile_id)
    return _change(service, lambda actor: profiles.delete_routing_profile(service, profile, actor),
                   _("Profil « %(name)s » supprimé.", name=profile.name), "#profils", 409)


@bp.route("/<int:service_id>/regles", methods=["POST"])
@requires("services.manage")
def add_rule(service_id: int):
    service = get_welcome_number_or_404(service_id)
    form = rules.rule_form(request.form)
    try:
        outcome = rules.save_rule(service, form, current_actor())
    except FormError as exc:
        return _number_page(service, 400, rule_values=form, rule_errors=exc.errors)
    return _done(service, outcome, _("Règle horaire ajoutée."), "#regles")


def _rule(service: Service, rule_id: int) -> WelcomeTimeRule:
    rule = numbers.rule_of(service, rule_id)
    if rule is None:
        abort(404)
    return rule


@bp.route("/<int:service_id>/regles/<int:rule_id>", methods=["GET", "POST"])
@requires("services.manage")
def edit_rule(service_id: int, rule_id: int):
    """The rule form filled with this rule; saving changes it in place (WN-1)."""
    service = get_welcome_number_or_404(service_id)
    rule = _rule(service, rule_id)
    if request.method == "GET":
        return _number_page(service, rule_values=rules.rule_to_form(rule), editing_rule=rule)
    form = rules.rule_form(request.form)
    try:
        outcome = rules.save_rule(service, form, current_actor(), rule=rule)
    except FormError as exc:
        return _number_page(service, 400, rule_values=form, rule_errors=exc.errors,
                            editing_rule=rule)
    return _done(service, outcome, _("Règle horaire modifiée."), "#regles")


@bp.route("/<int:service_id>/regles/<int:rule_id>/supprimer", methods=["POST"])
@requires("services.manage")
def delete_rule(service_id: int, rule_id: int):
    service = get_welcome_number_or_404(service_id)
    rule = _rule(service, rule_id)
    return _change(service, lambda actor: rules.delete_rule(service, rule, actor),
                   _("Règle horaire supprimée."), "#regles", 409)

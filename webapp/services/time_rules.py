"""A welcome number's time rules (WN-1): weekly slots and dated exceptions, each naming
the routing profile that answers then. Same change pattern as `routing_profiles`."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from webapp.db import db
from webapp.i18n import _
from webapp.models import Account, Service, WelcomeProfile, WelcomeTimeRule
from webapp.services import audit
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.routing_profiles import commit_checked, notify_engine
from webapp.services.welcome_numbers import RoutingChange, describe_rule, rules_of

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def rule_form(post=None) -> dict:
    if post is None:
        return {"kind": "weekly", "days": [], "date": "", "start": "09:00", "end": "18:00",
                "whole_day": "", "profile": "", "label": ""}
    return {"kind": post.get("kind", "weekly"), "days": post.getlist("days"),
            "date": (post.get("date") or "").strip(), "start": (post.get("start") or "").strip(),
            "end": (post.get("end") or "").strip(), "whole_day": post.get("whole_day") or "",
            "profile": post.get("profile") or "", "label": (post.get("label") or "").strip()}


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def rule_to_form(rule: WelcomeTimeRule) -> dict:
    """The edit form of an existing rule, in the shape `rule_form` parses."""
    whole_day = rule.date is not None and rule.start == "00:00" and rule.end == "24:00"
    return {"kind": "dated" if rule.date else "weekly",
            "days": (rule.days or "").split(",") if rule.days else [],
            "date": rule.date.isoformat() if rule.date else "",
            "start": rule.start, "end": rule.end, "whole_day": "1" if whole_day else "",
            "profile": str(rule.profile_id), "label": rule.label or ""}


def save_rule(service: Service, form: dict, actor: Actor,
             rule: WelcomeTimeRule | None = None) -> RoutingChange:
    """Add a time rule, or change `rule` in place (same checks, overlap with the others)."""
    errors: dict[str, str] = {}
    profiles = {p.id: p for p in WelcomeProfile.select().where(
        WelcomeProfile.service == service.id)}
    profile_id = int(form["profile"]) if form["profile"].isdigit() else None
    if profile_id not in profiles:
        errors["profile"] = _("Choisissez le profil qui répond pendant ce créneau.")
    if len(form["label"]) > 60:
        errors["label"] = _("Le libellé ne peut dépasser 60 caractères.")
    start, end = form["start"], form["end"]
    if end == "00:00":  # the "À" time picker's midnight: the end of the day (UI-1)
        end = "24:00"
    if form["kind"] == "dated" and form["whole_day"]:
        start, end = "00:00", "24:00"
    else:
        if not _HHMM.match(start or "") or start == "24:00":
            errors["start"] = _("Heure de début au format HH:MM (ex. 09:00).")
        if not _HHMM.match(end or ""):
            errors["end"] = _("Heure de fin au format HH:MM (ex. 18:00 ; 24:00 pour minuit).")
        if "start" not in errors and "end" not in errors and _minutes(end) <= _minutes(start):
            errors["end"] = _("L'heure de fin doit être après l'heure de début.")
    day = None
    days: list[int] = []
    if form["kind"] == "dated":
        try:
            day = dt.date.fromisoformat(form["date"])
        except ValueError:
            errors["date"] = _("Saisissez la date de l'exception (ex. 25/12/2026).")
        else:  # UI-1: an exception in the past would never apply
            zone = ZoneInfo(Account.get_by_id(service.account_id).timezone or "Europe/Paris")
            if day < dt.datetime.now(zone).date() and (rule is None or rule.date != day):
                errors["date"] = _("Cette date est passée : une exception ne peut porter que "
                                   "sur aujourd'hui ou une date à venir.")
    elif form["kind"] == "weekly":
        days = sorted({int(d) for d in form["days"] if d.isdigit() and 0 <= int(d) <= 6})
        if not days:
            errors["days"] = _("Cochez au moins un jour de la semaine.")
    else:
        errors["kind"] = _("Choisissez un créneau hebdomadaire ou une exception datée.")
    if not errors:
        clash = _overlap(service, day, days, start, end, ignore=rule.id if rule else None)
        if clash:
            errors["start"] = (_("Ce créneau chevauche une règle existante (%(describe_rule)s → "
                                 "%(name)s). Modifiez les horaires.",
                                 describe_rule=describe_rule(clash), name=clash.profile.name))
    if errors:
        raise FormError(errors, form)
    values = {"profile": profile_id, "label": form["label"], "date": day,
              "days": ",".join(map(str, days)) or None, "start": start, "end": end}
    after = {"date": str(day) if day else None, "days": days, "start": start, "end": end,
             "profile": profiles[profile_id].name}
    with db.atomic():
        if rule is None:
            rule = WelcomeTimeRule.create(service=service.id, **values)
            audit.record("welcome.rule_added", account=service.account_id, actor=actor,
                         service_id=service.id, rule_id=rule.id, after=after)
        else:
            before = describe_rule(rule)
            WelcomeTimeRule.update(**values).where(WelcomeTimeRule.id == rule.id).execute()
            commit_checked(service, {})
            audit.record("welcome.rule_changed", account=service.account_id, actor=actor,
                         service_id=service.id, rule_id=rule.id, before=before,
                         after=after)
    return RoutingChange(profiles[profile_id], notify_engine(actor, service))


def _overlap(service: Service, day: dt.date | None, days: list[int], start: str,
             end: str, ignore: int | None = None) -> WelcomeTimeRule | None:
    lo, hi = _minutes(start), _minutes(end)
    for rule in rules_of(service):
        if rule.id == ignore:
            continue
        same = (rule.date == day) if day else (
            rule.date is None and set(days) & {int(d) for d in rule.days.split(",")})
        if same and _minutes(rule.start) < hi and lo < _minutes(rule.end):
            return rule
    return None


def delete_rule(service: Service, rule: WelcomeTimeRule, actor: Actor) -> RoutingChange:
    with db.atomic():
        text = describe_rule(rule)
        rule.delete_instance()
        commit_checked(service, {})
        audit.record("welcome.rule_deleted", account=service.account_id, actor=actor,
                     service_id=service.id, rule=text)
    return RoutingChange(None, notify_engine(actor, service))

"""Queue statistics per welcome number and period (SWB-3): table, SVG charts, CSV.

For people who configure ("Gérer les services") or supervise ("Superviser les appels");
the welcome number is fetched with the site scope (out of scope: 404).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, g, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from webapp.i18n import N_
from webapp.rendering import download, render, saved
from webapp.security import current_access, current_actor, get_welcome_number_or_404
from webapp.services import phones
from webapp.services import stats as svc
from webapp.translate import translate

bp = Blueprint("stats", __name__, url_prefix="/configurer/statistiques")


@bp.before_request
def _guard():
    g.active_nav = "configure"
    access = current_access()
    if not (access.can("services.manage") or access.can("calls.supervise")):
        abort(403, description=[N_("Gérer les services"), N_("Superviser les appels")])


def _query(service_id: int):
    service = get_welcome_number_or_404(service_id)
    zone = ZoneInfo(service.account.timezone or "Europe/Paris")
    key = request.args.get("periode", "today")
    start, end = request.args.get("du", ""), request.args.get("au", "")
    try:
        period = svc.period(key, zone, start=start, end=end)
        error = None
    except svc.PeriodError as exc:
        period, error = svc.period("today", zone), translate(exc.message)
    return service, zone, period, error, {"periode": key, "du": start, "au": end}


@bp.route("/<int:service_id>")
def number(service_id: int):
    service, zone, period, error, chosen = _query(service_id)
    stats = svc.compute(service, period, zone)
    subscribed = svc.is_subscribed(service, current_user.contact_id)
    return render("stats/number.html", status=400 if error else 200, service=service,
                  subscribed=subscribed, short_abandon_s=svc.SHORT_ABANDON_MS // 1000,
                  period=period, periods=svc.PERIODS, chosen=chosen, error=error, s=stats,
                  day_chart=svc.day_chart(stats, locale=str(get_locale() or "fr")),
                  agent_chart=svc.agent_chart(stats),
                  seconds=svc.seconds, percent=svc.percent, phones=phones)


@bp.route("/<int:service_id>/export.csv")
def export(service_id: int):
    service, zone, period, error, _chosen = _query(service_id)
    if error:
        abort(400, description=error)
    body = svc.to_csv(service, period, svc.compute(service, period, zone))
    name = f"statistiques-{service.number.lstrip('+')}-{period.first}-{period.last}.csv"
    return download(("\ufeff" + body).encode(), name, "text/csv")


@bp.route("/<int:service_id>/rapport-hebdomadaire", methods=["POST"])
def weekly_report(service_id: int):
    """Subscribe to (or leave) the weekly e-mailed report of this number (SWB-8)."""
    service = get_welcome_number_or_404(service_id)
    on = request.form.get("abonner") == "1"
    svc.subscribe(service, on, actor=current_actor())
    return saved(_("Vous recevrez chaque lundi le rapport de la semaine par e-mail.") if on else
                 _("Vous ne recevrez plus le rapport hebdomadaire."),
                 url_for("stats.number", service_id=service.id))

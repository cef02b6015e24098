"""Call history and usage of a line (LINE-5): filters, pagination, CSV export."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, request
from flask_babel import gettext as _

from webapp.db import with_own_connection
from webapp.navigation import lights
from webapp.rendering import csv_download, render
from webapp.security import current_access, get_service_or_404, requires
from webapp.services import call_history, phones, usage
from webapp.services.directory import paginate, parse_page

bp = Blueprint("history", __name__, url_prefix="/services/<int:service_id>/historique")

LINE_KINDS = ("fixed", "mobile")


lights(bp, "services")


def _line_and_filters(service_id: int):
    """The line (in scope), the account's time zone and the filters of the address."""
    service = get_service_or_404(service_id, LINE_KINDS)
    tz = call_history.zone(current_access().account_id)
    return service, tz, call_history.parse_filters(request.args, tz)


@bp.route("")
@requires("services.manage")
def index(service_id: int):
    service, tz, filters = _line_and_filters(service_id)
    page = paginate(call_history.query(service, filters, tz), parse_page(request.args.get("page")),
                    call_history.PAGE_SIZE)
    today = dt.datetime.now(tz).date()
    return render("history/index.html", status=400 if filters.errors else 200, service=service,
                  filters=filters, page=page, totals=call_history.totals(service, filters, tz),
                  usages=usage.for_line(service, tz, today), periods=usage.periods(today),
                  kinds=call_history.KINDS, tz=tz, ch=call_history, phones=phones,
                  kind_labels={"in": _("Entrant"), "out": _("Sortant"), "missed": _("Manqué"),
                               "blocked": _("Bloqué")})


@bp.route("/export.csv")
@requires("services.manage")
def export(service_id: int):
    service, tz, filters = _line_and_filters(service_id)
    rows = (chunk.encode() for chunk in call_history.export_rows(service, filters, tz))
    return csv_download(with_own_connection(rows),
                        f'historique-{service.number.lstrip("+")}-'
                        f"{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv")

"""Liste noire of a line (LINE-4): up to 20 numbers plus anonymous callers."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext as _

from webapp.navigation import lights
from webapp.rendering import render, saved
from webapp.security import current_actor, get_service_or_404, requires
from webapp.services import blacklist as blacklist_service
from webapp.services import phones
from webapp.services.errors import FormError
from webapp.translate import translate

bp = Blueprint("blacklist", __name__, url_prefix="/services/<int:service_id>/liste-noire")

LINE_KINDS = ("fixed", "mobile")

lights(bp, "services")



def _page(service, status=200, value="", error=None):
    numbers, anonymous = blacklist_service.entries(service)
    return render("blacklist/index.html", status=status, service=service, numbers=numbers,
                  anonymous=anonymous, limit=blacklist_service.LIMIT, value=value,
                  error=error, phones=phones)


@bp.route("")
@requires("services.manage")
def index(service_id: int):
    return _page(get_service_or_404(service_id, LINE_KINDS))


@bp.route("", methods=["POST"])
@requires("services.manage")
def add(service_id: int):
    service = get_service_or_404(service_id, LINE_KINDS)
    raw = request.form.get("number", "")
    try:
        number = blacklist_service.add_number(service, raw, current_actor())
    except FormError as exc:
        return _page(service, 400, value=raw, error=translate(exc.errors["number"]))
    return saved(_("Le %(number)s est bloqué : ses appels iront directement sur la messagerie.",
                   number=phones.display(number)),
                 url_for("blacklist.index", service_id=service.id))


@bp.route("/retirer", methods=["POST"])
@requires("services.manage")
def remove(service_id: int):
    service = get_service_or_404(service_id, LINE_KINDS)
    number = request.form.get("number", "")
    if not blacklist_service.remove_number(service, number, current_actor()):
        return _page(service, 400, error=_("Ce numéro n'est pas dans la liste noire."))
    return saved(_("Le %(number)s n'est plus bloqué.", number=phones.display(number)),
                 url_for("blacklist.index", service_id=service.id))


@bp.route("/anonymes", methods=["POST"])
@requires("services.manage")
def anonymous(service_id: int):
    service = get_service_or_404(service_id, LINE_KINDS)
    blocked = request.form.get("anonymous") == "1"
    blacklist_service.set_anonymous(service, blocked, current_actor())
    return saved(_("Les appels anonymes sont bloqués.") if blocked else
                 _("Les appels anonymes ne sont plus bloqués."),
                 url_for("blacklist.index", service_id=service.id))

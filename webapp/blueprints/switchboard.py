"""The reception-desk switchboard (SPEC SWB-1, SWB-2): live page, SSE stream, actions.

Viewing needs "Superviser les appels" or "Gérer les services"; actions need "Superviser
les appels". Only welcome numbers in the user's site scope are shown or acted on.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.extensions import client_ip
from webapp.models import Service
from webapp.redis_conn import engine_redis_for
from webapp.rendering import redirect_to, render
from webapp.security import current_access, get_service_or_404, requires, scoped_services
from webapp.services import audit, phones
from webapp.services import switchboard as svc

bp = Blueprint("switchboard", __name__, url_prefix="/standard")


@bp.before_request
def _guard():
    g.active_nav = "configure"
    access = current_access()
    if not (access.can("calls.supervise") or access.can("services.manage")):
        abort(403, description=["Superviser les appels"])


def _settings():
    return current_app.extensions["cm_settings"]


def _engine():
    """The engine's Redis (ENGINE_REDIS_URL) and the signed-in account's shard (SCALE-1)."""
    from webapp.services.shards import shard_of

    return engine_redis_for(_settings().ENGINE_REDIS_URL), shard_of(current_user.account_id)


def _numbers() -> list[Service]:
    return list(scoped_services(("welcome",)).order_by(Service.number))


def render_parts(board: svc.Board, v: dict, can_act: bool, csrf_value: str) -> dict[str, str]:
    ctx = dict(b=board, v=v, can_act=can_act, csrf_value=csrf_value)
    return {f"n{board.service_id}-calls": render_template("switchboard/_calls.html", **ctx),
            f"n{board.service_id}-agents": render_template("switchboard/_agents.html", **ctx)}


def _renderer(can_act: bool, csrf_value: str):
    """Renders parts inside a short-lived context of its own, pushed and popped between
    two yields: the stream never holds the request's context (no stream_with_context),
    so the request ends (database closed, thread's context stack clean) before streaming."""
    app = current_app._get_current_object()
    base_url, locale = request.host_url, str(get_locale() or "fr")

    def render_in_own_context(board: svc.Board, v: dict) -> dict[str, str]:
        with app.test_request_context("/standard", base_url=base_url), force_locale(locale):
            return render_parts(board, v, can_act, csrf_value)

    return render_in_own_context


@bp.route("")
def index():
    conn, shard = _engine()
    boards = svc.boards(_numbers())
    raw = svc.read(conn, shard, [b.number for b in boards])
    views = {b.number: svc.view(b, raw.get(b.number)) for b in boards}
    return render("switchboard/index.html", boards=boards, views=views, phones=phones,
                  can_act=current_access().can("calls.supervise"), csrf_value=generate_csrf(),
                  server_ms=svc.now_ms())


@bp.route("/flux")
def stream():
    boards = svc.boards(_numbers())  # everything from the database is read now
    conn, shard = _engine()
    render_fn = _renderer(current_access().can("calls.supervise"), generate_csrf())
    body = svc.changes(conn, shard, boards, render_fn)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _action_page(service, call, part, message=None, error=None, status=200, form=None):
    lines = list(scoped_services(("fixed",)).order_by(Service.number))
    return render("switchboard/action.html", status=status, service=service, call=call,
                  part=part, message=message, error=error, lines=lines, phones=phones,
                  form=form or {})


@bp.route("/<int:service_id>/appels/<call>")
@requires("calls.supervise")
def call_actions(service_id: int, call: str):
    service = get_service_or_404(service_id, kinds=("welcome",))
    conn, shard = _engine()
    part = svc.call_on_board(conn, shard, service.number, call)
    return _action_page(service, call, part)


@bp.route("/<int:service_id>/appels/<call>/<action>", methods=["POST"])
@requires("calls.supervise")
def act(service_id: int, call: str, action: str):
    if action not in svc.ACTIONS:
        abort(404)
    service = get_service_or_404(service_id, kinds=("welcome",))
    conn, shard = _engine()
    part = svc.call_on_board(conn, shard, service.number, call)
    form = request.form
    if part is None:
        return _action_page(service, call, None, status=409,
                            error=_("Cet appel n'est plus en cours sur ce numéro."))
    fields: dict[str, str] = {}
    if action == "decrocher":
        line = scoped_services(("fixed",)).where(Service.id == form.get("line", type=int)).first()
        if line is None:
            return _action_page(service, call, part, status=400, form=form,
                                error=_("Choisissez la ligne qui prend l'appel."))
        fields["line"] = line.number
    elif action == "transferer":
        target = None
        if form.get("line"):
            line = scoped_services(("fixed", "mobile")).where(
                Service.id == form.get("line", type=int)).first()
            target = line.number if line else None
        elif form.get("to"):
            target = phones.normalize(form.get("to"))
        if target is None:
            return _action_page(service, call, part, status=400, form=form,
                                error=_("Choisissez une ligne ou saisissez un numéro valide "
                                        "(ex. 01 23 45 67 89)."))
        fields["to"] = target
    if (action in ("decrocher", "transferer") and part == "bridged") or (
            action in ("attente", "reprendre") and part != "bridged"):
        return _action_page(service, call, part, status=409,
                            error=_("Cette action n'est pas possible pour un appel dans cet état."))
    svc.send(conn, shard, svc.ACTIONS[action], call, **fields)
    audit.record("switchboard." + svc.ACTIONS[action].split(".")[1],
                 account=service.account_id, user=current_user, ip=client_ip(),
                 number=service.number, call=call, **fields)
    messages = {"decrocher": _("Demande envoyée : l'appel est pris par la ligne %(l)s.",
                               l=phones.display(fields.get("line"))),
                "transferer": _("Demande envoyée : l'appel est transféré vers %(t)s.",
                                t=phones.display(fields.get("to"))),
                "attente": _("Demande envoyée : l'appel est mis en attente."),
                "reprendre": _("Demande envoyée : l'appel est repris.")}
    if request.headers.get("HX-Request"):
        return _action_page(service, call, part, message=messages[action])
    flash(messages[action], "success")
    return redirect_to(url_for("switchboard.index") + f"#n{service.id}")

"""The reception-desk switchboard (SWB-1, SWB-2, SWB-4..8, Q-13): live page, wallboard,
SSE stream, call and agent actions, directory search, callbacks.

Viewing needs "Superviser les appels" or "Gérer les services"; actions need "Superviser
les appels". Only welcome numbers in the user's site scope are shown or acted on.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    get_template_attribute,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.db import db
from webapp.extensions import client_ip
from webapp.i18n import N_
from webapp.models import Service
from webapp.redis_conn import engine_redis_for, redis_for
from webapp.rendering import redirect_to, render
from webapp.security import (
    background,
    current_access,
    current_actor,
    get_service_or_404,
    requires,
    scoped_contacts,
    scoped_services,
)
from webapp.services import audit, breaks, phones
from webapp.services import stats as stats_svc
from webapp.services import switchboard as svc
from webapp.services.shards import shard_of

bp = Blueprint("switchboard", __name__, url_prefix="/standard")

ITEMS = "switchboard/_items.html"
CB_KINDS = {"abandoned": N_("Abandonné"), "rejected": N_("Rejeté (file pleine)"),
            "closed": N_("Sans réponse")}


@bp.before_request
def _guard():
    g.active_nav = "switchboard"
    access = current_access()
    if not (access.can("calls.supervise") or access.can("services.manage")):
        abort(403, description=[N_("Superviser les appels")])


def _settings():
    return current_app.extensions["cm_settings"]


def heartbeat_s() -> float:
    settings = _settings()
    return float(current_app.config.get("SSE_HEARTBEAT_S")
                 or getattr(settings, "SSE_HEARTBEAT_S", None) or svc.HEARTBEAT_S)


def _engine():
    """The engine's Redis (ENGINE_REDIS_URL) and the signed-in account's shard (SCALE-1)."""
    return engine_redis_for(_settings().ENGINE_REDIS_URL), shard_of(current_user.account_id)


def _numbers() -> list[Service]:
    return list(scoped_services(("welcome",)).order_by(Service.number))


def _safe(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)


def render_items(board: svc.Board, v: dict, can_act: bool, wall: bool = False) -> dict[str, str]:
    """{item id: one-line HTML} of one number (see services/switchboard.changes)."""
    sid = board.service_id
    percent = stats_svc.percent
    if wall:
        tile = get_template_attribute(ITEMS, "wall_tile")
        return {f"n{sid}-wall": svc.compact(str(tile(f"n{sid}-wall", board, svc.wall(v), percent,
                                                     svc.WALL_STATES)))}
    call_item = get_template_attribute(ITEMS, "call_item")
    agent_item = get_template_attribute(ITEMS, "agent_item")
    items = {f"n{sid}-sum": svc.compact(str(get_template_attribute(ITEMS, "summary")(
        f"n{sid}-sum", board, v, stats_svc.seconds, percent)))}
    zone = ZoneInfo(board.zone)
    for r in board.callbacks:
        r["who"], r["detail"] = svc.caller_label(r["caller"], _directory_for(board))
        r["kind_label"] = CB_KINDS.get(r["type"], r["type"])
        r["at"] = dt.datetime.fromtimestamp(r["ts_ms"] / 1000, zone).strftime("%H:%M")
    items[f"n{sid}-cb"] = svc.compact(str(get_template_attribute(ITEMS, "callbacks")(
        f"n{sid}-cb", board, can_act)))
    for part in ("waiting", "menu", "ringing", "bridged"):
        for c in v[part]:
            if part == "waiting":
                c["order"] = f"{c.get('profile', '')}|{c.get('queued_ms') or 0:015d}|{c['call']}"
            else:
                c["order"] = f"{c.get('since_ms') or c.get('arrived_ms') or 0:015d}|{c['call']}"
            key = f"n{sid}-c-{_safe(c['call'])}"
            items[key] = svc.compact(str(call_item(key, board, c, part, can_act)))
    for i, a in enumerate(v["agents"]):
        a["pause_label"] = _(breaks.reason_label(board.account_id, a.get("pause_reason")))
        key = f"n{sid}-a-{_safe(a['line'])}"
        items[key] = svc.compact(str(agent_item(key, board, a, f"{i:04d}", can_act)))
    return items


def _directory_for(board: svc.Board) -> svc.Directory:
    return g.setdefault("sb_directory", svc.Directory(board.account_id))


def grouped(items: dict[str, str]) -> dict[str, list[str]]:
    """Items by the list they belong to (`data-list`), in `data-order`; parts by id."""
    lists: dict[str, list[tuple[str, str]]] = {}
    for key, html in items.items():
        m = re.search(r'data-list="([^"]+)" data-order="([^"]*)"', html)
        if m:
            lists.setdefault(m.group(1), []).append((m.group(2), html))
        else:
            lists[key] = [("", html)]
    return {k: [h for _o, h in sorted(rows)] for k, rows in lists.items()}


def _renderer(can_act: bool, wall: bool):
    """Renders items inside a short-lived context of its own, pushed and popped between
    two yields: the stream never holds the request's context (no stream_with_context),
    so the request ends (database closed, thread's context stack clean) before streaming."""
    app = current_app._get_current_object()
    base_url, locale = request.host_url, str(get_locale() or "fr")
    directory_box: list = [None]  # the stream's Directory, set by the caller

    def render_in_own_context(board: svc.Board, v: dict) -> dict[str, str]:
        with app.test_request_context("/standard", base_url=base_url), force_locale(locale):
            g.sb_directory = directory_box[0]
            with db.connection_context():
                return render_items(board, v, can_act, wall)

    def refresh(boards: list[svc.Board]) -> None:
        with app.app_context(), db.connection_context():
            svc.refresh(boards)
        if directory_box[0] is not None:
            directory_box[0].cache.clear()

    return render_in_own_context, refresh, directory_box


def _page(template: str, wall: bool):
    conn, shard = _engine()
    boards = svc.boards(_numbers(), current_access().site_ids)
    raw = svc.read(conn, shard, [b.number for b in boards])
    can_act = current_access().can("calls.supervise") and not wall
    g.sb_directory = svc.Directory(boards[0].account_id) if boards else None
    lists = {b.number: grouped(render_items(b, svc.view(b, raw.get(b.number), g.sb_directory),
                                            can_act, wall)) for b in boards}
    return render(template, boards=boards, lists=lists, phones=phones, can_act=can_act,
                  csrf_value=generate_csrf(), server_ms=svc.now_ms(),
                  heartbeat_ms=int(heartbeat_s() * 1000))


@bp.route("")
def index():
    return _page("switchboard/index.html", wall=False)


@bp.route("/mur")
def wall():
    return _page("switchboard/wall.html", wall=True)


@bp.route("/flux")
@background  # a live stream the page opens by itself
def stream():
    # Everything from the database is read now.
    boards = svc.boards(_numbers(), current_access().site_ids)
    conn, shard = _engine()
    wall_view = request.args.get("vue") == "mur"
    render_fn, refresh_fn, box = _renderer(
        current_access().can("calls.supervise") and not wall_view, wall_view)
    box[0] = svc.Directory(boards[0].account_id if boards else 0)
    # SEC-4: a user holds at most 3 open streams; this one evicts the oldest beyond that.
    slot = svc.StreamSlot(redis_for(_settings().REDIS_URL), current_user.id)
    slot.open()
    body = svc.changes(conn, shard, boards, render_fn, refresh_fn=refresh_fn,
                       directory=box[0], heartbeat_s=heartbeat_s(), slot=slot,
                       closed_html=render_template(
                           "switchboard/_closed.html",
                           resume_url=url_for("switchboard.wall") if wall_view else None))
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"
    return response


# --- call actions (SWB-2, SWB-4, SWB-5) ----------------------------------------------------

def _own_line_id() -> int | None:
    row = scoped_services(("fixed",)).where(Service.holder == current_user.contact_id).first()
    return row.id if row else None


def _caller(entry: dict | None) -> tuple[str, str]:
    if entry is None:
        return "", ""
    g.sb_directory = svc.Directory(current_user.account_id)
    return svc.caller_label(entry.get("caller") or "", g.sb_directory)


def _action_page(service, call, where, message=None, error=None, status=200, form=None,
                 results=None, q=""):
    lines = list(scoped_services(("fixed",)).order_by(Service.number))
    part, entry = where if where else (None, None)
    who, detail = _caller(entry)
    return render("switchboard/action.html", status=status, service=service, call=call,
                  part=part, entry=entry, who=who, detail=detail, message=message, error=error,
                  lines=lines, phones=phones, form=form or {}, own_line=_own_line_id(),
                  results=results, q=q)


def _ended(service, call, status=409):
    return _action_page(service, call, None, status=status,
                        error=_("Cet appel est terminé : plus rien à faire pour lui."))


@bp.route("/<int:service_id>/appels/<call>")
@requires("calls.supervise")
def call_actions(service_id: int, call: str):
    service = get_service_or_404(service_id, kinds=("welcome",))
    conn, shard = _engine()
    where = svc.call_on_board(conn, shard, service.number, call)
    if where is None:
        return _ended(service, call, 200)
    return _action_page(service, call, where)


@bp.route("/<int:service_id>/appels/<call>/annuaire")
@requires("calls.supervise")
def directory_search(service_id: int, call: str):
    service = get_service_or_404(service_id, kinds=("welcome",))
    q = request.args.get("q", "")
    return render("switchboard/_directory.html", service=service, call=call, q=q,
                  results=svc.directory_results(scoped_contacts(), q), phones=phones)


def _target_name(number: str) -> str:
    person = svc.identify(current_user.account_id, number)
    return f"{person.name} ({phones.display(number)})" if person else phones.display(number)


@bp.route("/<int:service_id>/appels/<call>/<action>", methods=["POST"])
@requires("calls.supervise")
def act(service_id: int, call: str, action: str):
    if action not in svc.ACTIONS:
        abort(404)
    service = get_service_or_404(service_id, kinds=("welcome",))
    conn, shard = _engine()
    where = svc.call_on_board(conn, shard, service.number, call)
    form = request.form
    if where is None:
        return _ended(service, call)
    part = where[0]
    fields: dict[str, str] = {}
    if action == "decrocher":
        line = scoped_services(("fixed",)).where(Service.id == form.get("line", type=int)).first()
        if line is None:
            return _action_page(service, call, where, status=400, form=form,
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
            return _action_page(service, call, where, status=400, form=form,
                                error=_("Choisissez une ligne ou saisissez un numéro valide "
                                        "(ex. 01 23 45 67 89)."))
        refusal = svc.transfer_refusal(service.account_id, target)
        if refusal:  # SEC-8: no transfer to premium or foreign numbers by default
            audit.record("switchboard.transfer_refused", account=service.account_id,
                         user=current_user, ip=client_ip(), number=service.number, to=target)
            return _action_page(service, call, where, status=403, form=form, error=_(refusal))
        fields["to"] = target
    if (action in ("decrocher", "transferer") and part == "bridged") or (
            action in ("attente", "reprendre") and part != "bridged"):
        return _action_page(service, call, where, status=409,
                            error=_("Cette action n'est pas possible pour un appel dans cet état."))
    svc.send(conn, shard, svc.ACTIONS[action], call, **fields)
    audit.record("switchboard." + svc.ACTIONS[action].split(".")[1],
                 account=service.account_id, user=current_user, ip=client_ip(),
                 number=service.number, call=call, **fields)
    who = _caller(where[1])[0]
    messages = {"decrocher": _("Demande envoyée : l'appel de %(c)s est pris par %(l)s.",
                               c=who, l=_target_name(fields.get("line", ""))),
                "transferer": _("Demande envoyée : l'appel de %(c)s est transféré vers %(t)s.",
                                c=who, t=_target_name(fields.get("to", ""))),
                "attente": _("Demande envoyée : l'appel de %(c)s est mis en attente.", c=who),
                "reprendre": _("Demande envoyée : l'appel de %(c)s est repris.", c=who)}
    if request.headers.get("HX-Request"):
        return _action_page(service, call, where, message=messages[action])
    flash(messages[action], "success")
    return redirect_to(url_for("switchboard.index") + f"#n{service.id}")


# --- agents: breaks from the board (Q-13) ----------------------------------------------------

def _agent_line(service: Service, line: str) -> Service:
    """A line in scope that is an agent of one of this number's queue profiles."""
    row = svc.agent_line(scoped_services(("fixed",)), service, line)
    if row is None:
        abort(404)
    return row


def _agent_page(service, line, status=200, message=None, error=None):
    conn, shard = _engine()
    agent = svc.agent_on_board(conn, shard, service.number, line.number) or {}
    names = svc.line_names(service.account_id)
    return render("switchboard/agent.html", status=status, service=service, line=line,
                  agent=agent, name=names.get(line.number, phones.display(line.number)),
                  reasons=breaks.reasons(service.account_id), message=message, error=error,
                  reason_label=lambda c: breaks.reason_label(service.account_id, c),
                  phones=phones)


@bp.route("/<int:service_id>/agents/<line>")
@requires("calls.supervise")
def agent_actions(service_id: int, line: str):
    service = get_service_or_404(service_id, kinds=("welcome",))
    return _agent_page(service, _agent_line(service, line))


@bp.route("/<int:service_id>/agents/<line>/<action>", methods=["POST"])
@requires("calls.supervise")
def agent_act(service_id: int, line: str, action: str):
    if action not in ("pause", "reprise"):
        abort(404)
    service = get_service_or_404(service_id, kinds=("welcome",))
    row = _agent_line(service, line)
    actor = current_actor()
    conn = engine_redis_for(actor.engine_url)
    name = svc.line_names(service.account_id).get(row.number, phones.display(row.number))
    if action == "pause":
        code = request.form.get("reason", "")
        if not breaks.valid_reason(service.account_id, code):
            return _agent_page(service, row, 400, error=_("Choisissez le motif de la pause."))
        breaks.pause(conn, row, code, actor, "standard")
        message = _("Demande envoyée : %(n)s est mis(e) en pause (%(r)s).", n=name,
                    r=_(breaks.reason_label(service.account_id, code)))
    else:
        breaks.unpause(conn, row, actor, "standard")
        message = _("Demande envoyée : fin de pause pour %(n)s.", n=name)
    if request.headers.get("HX-Request"):
        return _agent_page(service, row, message=message)
    flash(message, "success")
    return redirect_to(url_for("switchboard.index") + f"#n{service.id}")


# --- callbacks (SWB-6) -------------------------------------------------------------------------

@bp.route("/<int:service_id>/rappels/<call>/traite", methods=["POST"])
@requires("calls.supervise")
def callback_done(service_id: int, call: str):
    service = get_service_or_404(service_id, kinds=("welcome",))
    if not svc.mark_callback_done(service, call, current_user.contact_id):
        abort(404)
    audit.record("switchboard.callback_done", account=service.account_id, user=current_user,
                 ip=client_ip(), number=service.number, call=call)
    message = _("Rappel marqué comme traité.")
    if request.headers.get("HX-Request"):
        return render("switchboard/_notice.html", message=message)
    flash(message, "success")
    return redirect_to(url_for("switchboard.index") + f"#n{service.id}")

"""Breaks (Q-13): "Ma ligne", where an agent pauses and resumes their own queue line,
and Configurer > "Motifs de pause", the account's own reasons ("Gérer les services").
A supervisor pauses agents from the switchboard (webapp/blueprints/switchboard.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.models import Service
from webapp.redis_conn import engine_redis_for
from webapp.rendering import redirect_to, render, saved
from webapp.security import current_actor, requires
from webapp.services import breaks, phones
from webapp.services.errors import FormError

bp = Blueprint("breaks", __name__)


def _my_line(service_id: int) -> Service:
    line = next((s for s in breaks.agent_lines(current_user.contact_id) if s.id == service_id),
                None)
    if line is None:
        abort(404)
    return line


def _mine(status: int = 200, error: str | None = None):
    actor = current_actor()
    conn = engine_redis_for(actor.engine_url)
    rows = [(line, breaks.line_state(conn, actor.engine_shard, line))
            for line in breaks.agent_lines(current_user.contact_id)]
    account = current_user.account_id
    return render("breaks/mine.html", status=status, rows=rows, error=error, phones=phones,
                  reasons=breaks.reasons(account),
                  label=lambda code: breaks.reason_label(account, code))


@bp.route("/ma-ligne")
def mine():
    g.active_nav = "my_line"
    return _mine()


@bp.route("/ma-ligne/<int:service_id>/pause", methods=["POST"])
def pause(service_id: int):
    line = _my_line(service_id)
    code = request.form.get("reason", "")
    if not breaks.valid_reason(current_user.account_id, code):
        g.active_nav = "my_line"
        return _mine(400, _("Choisissez le motif de la pause."))
    actor = current_actor()
    breaks.pause(engine_redis_for(actor.engine_url), line, code, actor, "ma-ligne")
    return saved(_("Vous êtes en pause (%(r)s) : aucun appel des files ne vous est présenté.",
                   r=_(breaks.reason_label(current_user.account_id, code))),
                 url_for("breaks.mine"))


@bp.route("/ma-ligne/<int:service_id>/reprise", methods=["POST"])
def unpause(service_id: int):
    line = _my_line(service_id)
    actor = current_actor()
    breaks.unpause(engine_redis_for(actor.engine_url), line, actor, "ma-ligne")
    return saved(_("Fin de pause : les appels des files vous sont de nouveau présentés."),
                 url_for("breaks.mine"))


@bp.route("/configurer/pauses")
@requires("services.manage")
def reasons(status: int = 200, errors=None, values=None):
    """The account's break reasons; adding one that is refused shows it again (400)."""
    g.active_nav = "configure"
    account = current_user.account_id
    return render("breaks/reasons.html", status=status, errors=errors or {},
                  values=values or {}, builtin=breaks.reasons(account)[:4],
                  own=breaks.own_reasons(account))


@bp.route("/configurer/pauses", methods=["POST"])
@requires("services.manage")
def add_reason():
    try:
        row = breaks.add_reason(current_user.account_id, request.form.get("label", ""),
                                current_actor())
    except FormError as exc:
        return reasons(400, exc.errors, exc.values)
    return saved(_("Motif « %(l)s » ajouté.", l=row.label), url_for("breaks.reasons"))


@bp.route("/configurer/pauses/<int:reason_id>/supprimer", methods=["POST"])
@requires("services.manage")
def delete_reason(reason_id: int):
    if not breaks.delete_reason(current_user.account_id, reason_id, current_actor()):
        if breaks.reason_exists(reason_id):
            abort(404)  # another account's
        flash(_("Ce motif était déjà supprimé."), "info")  # e.g. a second click
        return redirect_to(url_for("breaks.reasons"))
    return saved(_("Motif supprimé."), url_for("breaks.reasons"))

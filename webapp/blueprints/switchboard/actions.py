"""Switchboard actions (SWB-2, SWB-4, SWB-5, SWB-6, Q-13): the action panel of a call
(pick up, hold, resume, transfer to a line, a number or a directory contact), breaks of an
agent from the board, and the shared "traité" mark of a missed caller.

Every action needs "Superviser les appels", targets a welcome number in the user's site
scope and a call the board shows now (else "cet appel est terminé"), and confirms with
the names of the people involved.
"""

from __future__ import annotations

from flask import abort, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.blueprints.switchboard import bp, engine
from webapp.models import Service
from webapp.redis_conn import engine_redis_for
from webapp.rendering import render, saved
from webapp.security import (
    current_access,
    current_actor,
    get_welcome_number_or_404,
    requires,
    scoped_services,
)
from webapp.services import audit, breaks, phones
from webapp.services import switchboard as svc
from webapp.services import switchboard_actions as actions
from webapp.services import switchboard_attention as attention
from webapp.services.switchboard_directory import (
    Directory,
    TransferRefused,
    caller_label,
    check_transfer,
    directory_results,
    identify,
)


def _directory() -> Directory:
    """The signed-in user's directory: their account, their site scope (SEC-8)."""
    return g.setdefault("sb_directory", Directory(current_user.account_id,
                                                  current_access().site_ids))


# --- call actions (SWB-2, SWB-4, SWB-5) ----------------------------------------------------

def _own_line() -> Service | None:
    """The receptionist's own fixed line (in scope): the pick-up default (SWB-4)."""
    return scoped_services(("fixed",)).where(Service.holder == current_user.contact_id).first()


def _caller(entry: dict | None) -> tuple[str, str]:
    if entry is None:
        return "", ""
    return caller_label(entry.get("caller") or "", _directory())


def _action_page(service, call, where, message=None, error=None, status=200, form=None,
                 results=None, q=""):
    part, entry = where if where else (None, None)
    who, detail = _caller(entry)
    return render("switchboard/action.html", status=status, service=service, call=call,
                  part=part, entry=entry, who=who, detail=detail, message=message, error=error,
                  phones=phones, form=form or {}, own_line=_own_line(),
                  results=results, q=q)


def _ended(service, call, status=409):
    return _action_page(service, call, None, status=status,
                        error=_("Cet appel est terminé : plus rien à faire pour lui."))


@bp.route("/<int:service_id>/appels/<call>")
@requires("calls.supervise")
def call_actions(service_id: int, call: str):
    service = get_welcome_number_or_404(service_id)
    conn, shard = engine()
    where = actions.call_on_board(conn, shard, service.number, call)
    if where is None:
        return _ended(service, call, 200)
    return _action_page(service, call, where)


@bp.route("/<int:service_id>/appels/<call>/annuaire")
@requires("calls.supervise")
def directory_search(service_id: int, call: str):
    service = get_welcome_number_or_404(service_id)
    q = request.args.get("q", "")
    results = directory_results(current_user.account_id, current_access().site_ids, q)
    return render("switchboard/_directory.html", service=service, call=call, q=q,
                  results=results, phones=phones)


def _target_name(number: str) -> str:
    person = identify(current_user.account_id, number, current_access().site_ids)
    return f"{person.name} ({phones.display(number)})" if person else phones.display(number)


@bp.route("/<int:service_id>/appels/<call>/<action>", methods=["POST"])
@requires("calls.supervise")
def act(service_id: int, call: str, action: str):
    if action not in actions.ACTIONS:
        abort(404)
    service = get_welcome_number_or_404(service_id)
    conn, shard = engine()
    where = actions.call_on_board(conn, shard, service.number, call)
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
        try:  # SEC-8: no transfer to premium or foreign numbers by default
            check_transfer(service.account_id, target)
        except TransferRefused as refused:
            audit.record("switchboard.transfer_refused", account=service.account_id,
                         actor=current_actor(), number=service.number, to=target)
            return _action_page(service, call, where, status=403, form=form,
                                error=refused.message)
        fields["to"] = target
    if actions.refusal_for_state(action, part):
        return _action_page(service, call, where, status=409,
                            error=_("Cette action n'est pas possible pour un appel dans cet état."))
    actions.send(conn, shard, actions.ACTIONS[action], call, **fields)
    audit.record("switchboard." + actions.ACTIONS[action].split(".")[1],
                 account=service.account_id, actor=current_actor(),
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
    return saved(messages[action], url_for("switchboard.index") + f"#n{service.id}")


# --- agents: breaks from the board (Q-13) ----------------------------------------------------

def _agent_line(service: Service, line: str) -> Service:
    """A line in scope that is an agent of one of this number's queue profiles."""
    row = actions.agent_line(scoped_services(("fixed",)), service, line)
    if row is None:
        abort(404)
    return row


def _agent_page(service, line, status=200, message=None, error=None):
    conn, shard = engine()
    agent = actions.agent_on_board(conn, shard, service.number, line.number) or {}
    names = svc.line_names(service.account_id, current_access().site_ids)
    return render("switchboard/agent.html", status=status, service=service, line=line,
                  agent=agent, name=names.get(line.number, phones.display(line.number)),
                  reasons=breaks.reasons(service.account_id), message=message, error=error,
                  reason_label=lambda c: breaks.reason_label(service.account_id, c),
                  phones=phones)


@bp.route("/<int:service_id>/agents/<line>")
@requires("calls.supervise")
def agent_actions(service_id: int, line: str):
    service = get_welcome_number_or_404(service_id)
    return _agent_page(service, _agent_line(service, line))


@bp.route("/<int:service_id>/agents/<line>/<action>", methods=["POST"])
@requires("calls.supervise")
def agent_act(service_id: int, line: str, action: str):
    if action not in ("pause", "reprise"):
        abort(404)
    service = get_welcome_number_or_404(service_id)
    row = _agent_line(service, line)
    actor = current_actor()
    conn = engine_redis_for(actor.engine_url)
    name = svc.line_names(service.account_id, current_access().site_ids).get(
        row.number, phones.display(row.number))
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
    return saved(message, url_for("switchboard.index") + f"#n{service.id}")


# --- callbacks (SWB-6) -------------------------------------------------------------------------

@bp.route("/<int:service_id>/rappels/<call>/traite", methods=["POST"])
@requires("calls.supervise")
def callback_done(service_id: int, call: str):
    service = get_welcome_number_or_404(service_id)
    if not attention.mark_callback_done(service, call, current_user.contact_id):
        abort(404)
    audit.record("switchboard.callback_done", account=service.account_id,
                 actor=current_actor(), number=service.number, call=call)
    message = _("Rappel marqué comme traité.")
    if request.headers.get("HX-Request"):
        return render("switchboard/_notice.html", message=message)
    return saved(message, url_for("switchboard.index") + f"#n{service.id}")

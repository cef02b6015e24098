"""Operator back-office (OPS-1): its own staff accounts, sign-in and 2FA, under /ops.

Customer sessions never open it and staff sessions never open customer pages:
the staff principal lives under its own session keys (`staff_*`), which the
customer login loader ignores. The app-wide customer sign-in check does not
apply here (views are `public` to it); `_staff_only` guards every view instead.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)

from webapp.extensions import client_ip, limiter
from webapp.models import (
    DEPLOYMENT_KINDS,
    DEPLOYMENT_STATUSES,
    MAIL_FAILED,
    ORDER_STATUSES,
    SLOTS,
    TICKET_CLOSED,
    TICKET_OPEN,
    Account,
    Attachment,
    Deployment,
    Invoice,
    Order,
    OutboundEmail,
    Site,
    StaffTrustedBrowser,
    StaffUser,
    Ticket,
    utcnow,
)
from webapp.rendering import attachment_download, render
from webapp.security import public, safe_next
from webapp.services import audit, billing, deployments, pdf
from webapp.services import auth as auth_service
from webapp.services import staff as staff_service
from webapp.services import tickets as ticket_service
from webapp.services.browsers import describe_browser
from webapp.services.tokens import digest, new_token

bp = Blueprint("ops", __name__, url_prefix="/ops")

TRUST_COOKIE = "cm_staff_trust"
PRE_AUTH_TTL_S = 15 * 60
OPEN_ENDPOINTS = {"ops.login", "ops.verify", "ops.send_code", "ops.logout", "ops.password_help"}
LABELS = {"kinds": DEPLOYMENT_KINDS, "statuses": DEPLOYMENT_STATUSES, "slots": SLOTS,
          "order_statuses": ORDER_STATUSES, "euros": billing.euros}


def staff_route(rule: str, **options):
    """A back-office view: open to the customer check, guarded by `_staff_only`."""
    def decorate(view):
        return bp.route(rule, **options)(public(view))
    return decorate


def _settings():
    return current_app.extensions["cm_settings"]


def current_staff() -> StaffUser | None:
    staff_id = session.get("staff_id")
    if not staff_id:
        return None
    staff = StaffUser.get_or_none(StaffUser.id == staff_id)
    if staff is None or not staff.is_active or session.get("staff_auth_version") != \
            staff.auth_version:
        return None
    trust_id = session.get("staff_trust_id")
    if trust_id and not StaffTrustedBrowser.select().where(
            (StaffTrustedBrowser.id == trust_id) & StaffTrustedBrowser.revoked_at.is_null()
    ).exists():
        return None
    return staff


@bp.before_request
def _staff_only():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    staff = current_staff()
    if staff is None:
        target = url_for("ops.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            response = make_response("", 401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
    g.staff = staff
    return None


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _next(raw: str | None) -> str:
    target = safe_next(raw, "")
    return target if target.startswith("/ops/") or target == "/ops" else ""


# --- sign-in (same 2FA rules as customers: TFA-1..3) ---------------------------------

def _account_key() -> str:
    return "ops-signin:" + request.form.get("email", "").strip().lower()


def _failed(response) -> bool:
    return response.status_code >= 400


@staff_route("/connexion", methods=["GET", "POST"])
@limiter.limit("20 per minute; 100 per hour", methods=["POST"], deduct_when=_failed)
@limiter.limit("5 per minute; 20 per hour", key_func=_account_key, methods=["POST"],
               deduct_when=_failed)
def login():
    next_url = _next(request.values.get("next"))
    email = request.values.get("email", "")
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_url or url_for("ops.home"))
        return render("ops/login.html", email=email, next_url=next_url)
    staff = staff_service.authenticate(email, request.form.get("password", ""))
    if staff is None:
        audit.record("ops.signin_failed", ip=client_ip())
        return render("ops/login.html", status=401, email=email, next_url=next_url,
                      error="Adresse e-mail ou mot de passe incorrect.")
    session.clear()
    token = request.cookies.get(TRUST_COOKIE)
    if staff.tfa_state == "active" and auth_service.is_trusted(staff, token, ip=client_ip()):
        trusted = StaffTrustedBrowser.get(StaffTrustedBrowser.token_hash == digest(token))
        return _complete(staff, next_url, trust_id=trusted.id)
    attempt = new_token()
    session["staff_pre_auth"] = {"staff_id": staff.id, "attempt": attempt, "next": next_url,
                                 "at": time.time(), "code_sent": False}
    if staff.tfa_state == "active":
        _send_code(staff, attempt)
    current_app.session_interface.regenerate(session)
    return redirect(url_for("ops.verify"), 303)


def _pending() -> tuple[StaffUser | None, dict]:
    pending = session.get("staff_pre_auth") or {}
    if not pending or time.time() - pending.get("at", 0) > PRE_AUTH_TTL_S:
        return None, {}
    staff = StaffUser.get_or_none(StaffUser.id == pending["staff_id"])
    if staff is None or not staff.is_active:
        return None, {}
    return staff, pending


def _send_code(staff: StaffUser, attempt: str) -> None:
    settings = _settings()
    auth_service.issue_code(staff, attempt, settings=settings,
                            browser=describe_browser(request.user_agent.string), ip=client_ip(),
                            reset_url=f"{settings.BASE_URL}/ops/mot-de-passe")
    pending = session.get("staff_pre_auth") or {}
    pending["code_sent"] = True
    session["staff_pre_auth"] = pending


@staff_route("/connexion/verification", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def verify():
    staff, pending = _pending()
    if staff is None:
        flash("Votre tentative de connexion a expiré : reconnectez-vous.", "warning")
        return redirect(url_for("ops.login"))
    context = {"staff": staff, "code_sent": pending.get("code_sent"),
               "activating": staff.tfa_state != "active"}
    if request.method == "GET":
        return render("ops/verify.html", **context)
    code = request.form.get("code", "").strip()
    result = auth_service.check_code(staff, pending["attempt"], code, settings=_settings())
    if result is auth_service.CodeResult.OK:
        auth_service.activate_tfa(staff, client_ip())
        trust_id = token = None
        if request.form.get("trust") == "1":
            token = auth_service.trust_browser(
                staff, browser=describe_browser(request.user_agent.string), ip=client_ip())
            trust_id = StaffTrustedBrowser.get(StaffTrustedBrowser.token_hash == digest(token)).id
        response = _complete(staff, pending.get("next", ""), trust_id=trust_id)
        if token:
            response.set_cookie(TRUST_COOKIE, token,
                                max_age=int(auth_service.TRUST_TTL.total_seconds()),
                                httponly=True, samesite="Lax", path="/ops",
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    if result is auth_service.CodeResult.WRONG:
        left = auth_service.tries_left(staff, pending["attempt"])
        error = f"Code incorrect. Il vous reste {left} essai{'s' if left > 1 else ''}."
    elif result is auth_service.CodeResult.EXPIRED:
        error = "Ce code a expiré : demandez un nouveau code."
    else:
        error = ("Ce code n'est plus valable (trop d'essais ou remplacé) : "
                 "demandez un nouveau code.")
    return render("ops/verify.html", status=400, error=error, code=code, **context)


def _resend_key() -> str:
    pending = session.get("staff_pre_auth") or {}
    return f"ops-resend:{pending.get('staff_id', client_ip())}"


@staff_route("/connexion/envoyer-code", methods=["POST"])
@limiter.limit("3 per minute; 10 per hour", key_func=_resend_key)
def send_code():
    staff, pending = _pending()
    if staff is None:
        return redirect(url_for("ops.login"))
    _send_code(staff, pending["attempt"])
    flash(f"Un code vient de vous être envoyé par e-mail à {staff.email}.", "info")
    return redirect(url_for("ops.verify"), 303)


def _complete(staff: StaffUser, next_url: str, trust_id: int | None = None):
    session.clear()  # a customer session in this browser ends too: never both at once
    session["staff_id"] = staff.id
    session["staff_auth_version"] = staff.auth_version
    session["started_at"] = time.time()
    if trust_id:
        session["staff_trust_id"] = trust_id
    current_app.session_interface.regenerate(session)
    StaffUser.update(last_login_at=utcnow()).where(StaffUser.id == staff.id).execute()
    audit.record("ops.signin", staff=staff.id, ip=client_ip(), trusted=bool(trust_id))
    return redirect(_next(next_url) or url_for("ops.home"), 303)


@staff_route("/deconnexion", methods=["POST"])
def logout():
    for key in ("staff_id", "staff_auth_version", "staff_trust_id", "staff_pre_auth"):
        session.pop(key, None)
    flash("Vous êtes déconnecté du back-office.", "info")
    return redirect(url_for("ops.login"), 303)


@staff_route("/mot-de-passe")
def password_help():
    return render("ops/password_help.html")


# --- home, accounts, credit limits ------------------------------------------------------

@staff_route("/")
def home():
    return render("ops/home.html", open_tickets=ticket_service.inbox().count(),
                  mine=ticket_service.inbox(assigned=g.staff.id).count(),
                  unassigned=ticket_service.inbox().where(Ticket.assigned_to.is_null()).count(),
                  upcoming=deployments.upcoming(Deployment.select()).count(),
                  failed=OutboundEmail.select().where(OutboundEmail.status == MAIL_FAILED)
                  .count())


@staff_route("/comptes")
def accounts():
    rows = [(a, billing.balance(a.id)) for a in Account.select().order_by(Account.name)]
    return render("ops/accounts.html", rows=rows, **LABELS)


def _account_page(account: Account, status: int = 200, **extra):
    today = billing.today_for(account)
    return render("ops/account.html", status=status, account=account,
                  balance=billing.balance(account.id),
                  sites=list(Site.select().where(Site.account == account).order_by(Site.name)),
                  deployments=list(Deployment.select().where(Deployment.account == account)
                                   .order_by(Deployment.id.desc())),
                  orders=list(billing.orders(account.id)),
                  invoices=list(billing.invoices(account.id)), today=today,
                  tickets=list(Ticket.select().where(Ticket.account == account)
                               .order_by(Ticket.updated_at.desc()).limit(20)),
                  form=extra.pop("form", {}), errors=extra.pop("errors", {}),
                  form_name=extra.pop("form_name", None), **LABELS, **extra)


def _account_or_404(account_id: int) -> Account:
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        abort(404)
    return account


@staff_route("/comptes/<int:account_id>")
def account(account_id: int):
    return _account_page(_account_or_404(account_id))


def _done(message: str, url: str):
    flash(message, "success")
    return redirect(url, 303)


@staff_route("/comptes/<int:account_id>/encours", methods=["POST"])
def credit_limit(account_id: int):
    found = _account_or_404(account_id)
    error = billing.set_credit_limit(found, amount_raw=request.form.get("limit", ""),
                                     staff=g.staff)
    if error:
        return _account_page(found, 400, form=request.form, errors={"limit": error},
                             form_name="credit")
    return _done("Encours autorisé enregistré.", url_for("ops.account", account_id=found.id))


# --- deployments -------------------------------------------------------------------------

@staff_route("/deploiements")
def deployments_list():
    query = Deployment.select()
    return render("ops/deployments.html", upcoming=list(deployments.upcoming(query)),
                  past=list(deployments.past(query)[:50]), **LABELS)


@staff_route("/comptes/<int:account_id>/deploiements", methods=["POST"])
def deployment_new(account_id: int):
    found = _account_or_404(account_id)
    site = request.form.get("site", "")
    created, errors = deployments.create(
        account=found, kind=request.form.get("kind", ""), title=request.form.get("title", ""),
        site_id=int(site) if site.isdigit() else None,
        numbers=request.form.get("numbers", ""), staff=g.staff)
    if errors:
        return _account_page(found, 400, form=request.form, errors=errors,
                             form_name="deployment")
    return _done(f"Déploiement {created.reference} créé : planifiez-le.",
                 url_for("ops.deployment", deployment_id=created.id))


def _deployment_page(found: Deployment, status: int = 200, **extra):
    return render("ops/deployment.html", status=status, deployment=found,
                  history=deployments.history(found),
                  moves=deployments.TRANSITIONS.get(found.status, ()),
                  today=billing.today_for(found.account), form=extra.pop("form", {}),
                  error=extra.pop("error", None), **LABELS)


def _deployment_or_404(deployment_id: int) -> Deployment:
    found = Deployment.get_or_none(Deployment.id == deployment_id)
    if found is None:
        abort(404)
    return found


@staff_route("/deploiements/<int:deployment_id>")
def deployment(deployment_id: int):
    return _deployment_page(_deployment_or_404(deployment_id))


@staff_route("/deploiements/<int:deployment_id>/planifier", methods=["POST"])
def deployment_schedule(deployment_id: int):
    found = _deployment_or_404(deployment_id)
    error = deployments.schedule(found, date_raw=request.form.get("date", ""),
                                 slot=request.form.get("slot", ""), staff=g.staff,
                                 redis_url=_settings().REDIS_URL,
                                 today=billing.today_for(found.account))
    if error:
        return _deployment_page(found, 400, form=request.form, error=error)
    return _done("Planification enregistrée ; le client est prévenu par e-mail.",
                 url_for("ops.deployment", deployment_id=found.id))


@staff_route("/deploiements/<int:deployment_id>/statut", methods=["POST"])
def deployment_status(deployment_id: int):
    found = _deployment_or_404(deployment_id)
    error = deployments.move(found, request.form.get("status", ""), staff=g.staff,
                             redis_url=_settings().REDIS_URL, note=request.form.get("note", ""))
    if error:
        return _deployment_page(found, 400, form=request.form, error=error)
    return _done("Statut mis à jour.", url_for("ops.deployment", deployment_id=found.id))


# --- tickets -----------------------------------------------------------------------------

@staff_route("/tickets")
def tickets():
    status = TICKET_CLOSED if request.args.get("etat") == "fermes" else TICKET_OPEN
    mine = request.args.get("moi") == "1"
    rows = list(ticket_service.inbox(status, g.staff.id if mine else None))
    return render("ops/tickets.html", rows=rows, state=status, mine=mine)


def _ticket_or_404(ticket_id: int) -> Ticket:
    found = Ticket.get_or_none(Ticket.id == ticket_id)
    if found is None:
        abort(404)
    return found


def _ticket_page(found: Ticket, status: int = 200, **extra):
    return render("ops/ticket.html", status=status, ticket=found,
                  messages=ticket_service.thread(found), staff_list=staff_service.active_staff(),
                  form=extra.pop("form", {}), error=extra.pop("error", None))


@staff_route("/tickets/<int:ticket_id>")
def ticket(ticket_id: int):
    return _ticket_page(_ticket_or_404(ticket_id))


@staff_route("/tickets/<int:ticket_id>/repondre", methods=["POST"])
def ticket_reply(ticket_id: int):
    found = _ticket_or_404(ticket_id)
    _, error = ticket_service.staff_reply(found, staff=g.staff, body=request.form.get("body", ""),
                                          close=request.form.get("close") == "1",
                                          redis_url=_settings().REDIS_URL)
    if error:
        return _ticket_page(found, 400, form=request.form, error=error)
    return _done("Réponse envoyée ; le client est prévenu par e-mail.",
                 url_for("ops.ticket", ticket_id=found.id))


@staff_route("/tickets/<int:ticket_id>/statut", methods=["POST"])
def ticket_status(ticket_id: int):
    found = _ticket_or_404(ticket_id)
    status = request.form.get("status")
    if status not in (TICKET_OPEN, TICKET_CLOSED):
        return _ticket_page(found, 400, error="Statut inconnu.")
    ticket_service.set_status(found, status, staff=g.staff)
    return _done("Ticket fermé." if status == TICKET_CLOSED else "Ticket rouvert.",
                 url_for("ops.ticket", ticket_id=found.id))


@staff_route("/tickets/<int:ticket_id>/attribuer", methods=["POST"])
def ticket_assign(ticket_id: int):
    found = _ticket_or_404(ticket_id)
    raw = request.form.get("staff", "")
    if not ticket_service.assign(found, int(raw) if raw.isdigit() else None, by=g.staff):
        return _ticket_page(found, 400, error="Choisissez un membre actif de l'équipe.")
    return _done("Attribution enregistrée.", url_for("ops.ticket", ticket_id=found.id))


@staff_route("/pieces-jointes/<int:attachment_id>")
def attachment(attachment_id: int):
    found = Attachment.get_or_none((Attachment.id == attachment_id)
                                   & Attachment.message.is_null(False))
    if found is None:
        abort(404)
    return attachment_download(found, _settings().DATA_DIR)


# --- orders, invoices, payments -----------------------------------------------------------

@staff_route("/comptes/<int:account_id>/commandes", methods=["POST"])
def order_new(account_id: int):
    found = _account_or_404(account_id)
    created, errors = billing.create_order(found, title=request.form.get("title", ""),
                                           amount_raw=request.form.get("amount", ""),
                                           staff=g.staff)
    if errors:
        return _account_page(found, 400, form=request.form, errors=errors, form_name="order")
    return _done(f"Commande {created.reference} créée.",
                 url_for("ops.account", account_id=found.id))


@staff_route("/commandes/<int:order_id>/statut", methods=["POST"])
def order_status(order_id: int):
    found = Order.get_or_none(Order.id == order_id)
    if found is None:
        abort(404)
    error = billing.set_order_status(found, request.form.get("status", ""), staff=g.staff)
    if error:
        return _account_page(found.account, 400, errors={"order_status": error},
                             form_name="order_status")
    return _done("Statut de la commande mis à jour.",
                 url_for("ops.account", account_id=found.account_id))


@staff_route("/comptes/<int:account_id>/factures", methods=["POST"])
def invoice_new(account_id: int):
    found = _account_or_404(account_id)
    order = request.form.get("order", "")
    created, errors = billing.issue_invoice(
        found, label=request.form.get("label", ""), amount_raw=request.form.get("amount", ""),
        due_raw=request.form.get("due_on", ""), order_id=int(order) if order.isdigit() else None,
        staff=g.staff, redis_url=_settings().REDIS_URL)
    if errors:
        return _account_page(found, 400, form=request.form, errors=errors, form_name="invoice")
    return _done(f"Facture {created.number} émise ; le client est prévenu par e-mail.",
                 url_for("ops.invoice", invoice_id=created.id))


def _invoice_or_404(invoice_id: int) -> Invoice:
    found = Invoice.get_or_none(Invoice.id == invoice_id)
    if found is None:
        abort(404)
    return found


def _invoice_page(found: Invoice, status: int = 200, **extra):
    return render("ops/invoice.html", status=status, invoice=found,
                  payments=billing.payments(found), today=billing.today_for(found.account),
                  form=extra.pop("form", {}), error=extra.pop("error", None), **LABELS)


@staff_route("/factures/<int:invoice_id>")
def invoice(invoice_id: int):
    return _invoice_page(_invoice_or_404(invoice_id))


@staff_route("/factures/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    found = _invoice_or_404(invoice_id)
    response = make_response(pdf.invoice_pdf(found, found.account.name,
                                             billing.payments(found), billing.euros))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="facture-{found.number}.pdf"'
    return response


@staff_route("/factures/<int:invoice_id>/paiements", methods=["POST"])
def payment(invoice_id: int):
    found = _invoice_or_404(invoice_id)
    error = billing.record_payment(found, amount_raw=request.form.get("amount", ""),
                                   date_raw=request.form.get("date", ""),
                                   method=request.form.get("method", ""), staff=g.staff)
    if error:
        return _invoice_page(found, 400, form=request.form, error=error)
    return _done("Paiement enregistré.", url_for("ops.invoice", invoice_id=found.id))


@staff_route("/factures/<int:invoice_id>/relance", methods=["POST"])
def reminder(invoice_id: int):
    found = _invoice_or_404(invoice_id)
    error = billing.send_overdue_reminder(found, staff=g.staff, redis_url=_settings().REDIS_URL)
    if error:
        return _invoice_page(found, 400, error=error)
    return _done("Relance envoyée.", url_for("ops.invoice", invoice_id=found.id))


# --- MAIL-2: permanently failed e-mails -------------------------------------------------

@staff_route("/courriels")
def emails():
    rows = list(OutboundEmail.select().where(OutboundEmail.status == MAIL_FAILED)
                .order_by(OutboundEmail.created_at.desc()).limit(200))
    return render("ops/emails.html", rows=rows)



"""Staff sign-in: the password here, then the same 2FA steps as customers (webapp.signin)."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _

from webapp.blueprints.ops import current_staff, next_page, staff_route
from webapp.extensions import limiter
from webapp.rendering import render
from webapp.security import visitor_actor
from webapp.services import audit
from webapp.services import staff as staff_service
from webapp.signin import Door, open_session, password_limits

TRUST_COOKIE = "cm_staff_trust"


def _complete(staff, next_url: str, trust_id: int | None = None):
    session.clear()  # a customer session in this browser ends too: never both at once
    session["staff_id"] = staff.id
    open_session(staff, trust_id, prefix="staff_")
    audit.record("ops.signin", actor=visitor_actor(), staff=staff.id, trusted=bool(trust_id))
    return redirect(next_page(next_url) or url_for("ops.home"), 303)


DOOR = Door(blueprint="ops", kind="staff", session_key="staff_pre_auth",
            trust_cookie=TRUST_COOKIE, cookie_path="/ops", layout="ops/_auth.html",
            finish=_complete, reset_path="/ops/mot-de-passe", failed_audit="ops.signin_failed")


@staff_route("/connexion", methods=["GET", "POST"])
@password_limits("ops-signin:")
def login():
    next_url = next_page(request.values.get("next"))
    email = request.values.get("email", "")
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_url or url_for("ops.home"))
        return render("ops/login.html", email=email, next_url=next_url)
    staff = staff_service.authenticate(email, request.form.get("password", ""))
    if staff is None:
        return DOOR.wrong_password(email, next_url)
    return DOOR.begin(staff, next_url)


@staff_route("/connexion/verification", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def verify():
    return DOOR.verify()


def _resend_key() -> str:
    return f"ops-resend:{DOOR.pending_id()}"


@staff_route("/connexion/envoyer-code", methods=["POST"])
@limiter.limit("3 per minute; 10 per hour", key_func=_resend_key)
def send_code():
    return DOOR.send_code()


@staff_route("/deconnexion", methods=["POST"])
def logout():
    for key in ("staff_id", "staff_auth_version", "staff_trust_id", "staff_pre_auth"):
        session.pop(key, None)
    flash(_("Vous êtes déconnecté du back-office."), "info")
    return redirect(url_for("ops.login"), 303)


@staff_route("/mot-de-passe")
def password_help():
    return render("ops/password_help.html")

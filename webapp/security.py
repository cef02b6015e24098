"""Who is signed in and what they may do: login loader, `requires`, scoped fetches.

Every endpoint needs a signed-in Manager user unless marked `@public`
(secure by default); permissions are declared on views with `@requires(...)`.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

from flask import abort, current_app, g, request, session
from flask_login import current_user
from peewee import Model

from webapp.db import Prepared
from webapp.extensions import client_ip, login_manager
from webapp.models import Account, Contact, Service, TrustedBrowser, User
from webapp.permissions import PERMISSIONS
from webapp.services.access import Access, access_for, contacts_in_scope
from webapp.services.actor import Actor

PUBLIC_ATTR = "_public_endpoint"
BACKGROUND_ATTR = "_background_request"
PERMS_ATTR = "_required_permissions"


def public(view):
    """Reachable without a session (sign-in, password pages, health)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def background(view=None, *, when=None):
    """A request the page makes by itself (a poll, a live stream): it never extends the
    session's idle timeout (SEC-8). `when` (no argument) limits it to some requests of the
    view, e.g. only the thread poll of a ticket page."""
    def mark(func):
        setattr(func, BACKGROUND_ATTR, when or True)
        return func

    return mark(view) if view is not None else mark


def request_is_background() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    marker = getattr(view, BACKGROUND_ATTR, None) if view else None
    if marker is None:
        return False
    return bool(marker()) if callable(marker) and marker is not True else True


def requires(*permissions: str):
    """403 with a French explanation unless the user holds every permission."""
    unknown = set(permissions) - PERMISSIONS.keys()
    if unknown:
        raise ValueError(f"unknown permissions {unknown}")

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            access = current_access()
            missing = [PERMISSIONS[p] for p in permissions if not access.can(p)]
            if missing:
                abort(403, description=missing)
            return view(*args, **kwargs)

        setattr(wrapped, PERMS_ATTR, permissions)
        return wrapped

    return decorate


def current_access() -> Access:
    if "access" not in g:
        g.access = access_for(current_user._get_current_object())
    return g.access


# Every request runs these two (SCALE-4: their SQL is built once). The user comes with
# its account (time zone, name in the layout) and contact (name): one query.
_SESSION_USER = Prepared(lambda user_id: User.select(User, Account, Contact).join(Account)
                         .switch(User).join(Contact).where(User.id == user_id).limit(1))
_TRUSTED_BROWSER = Prepared(lambda trust_id: TrustedBrowser.select(TrustedBrowser.id).where(
    (TrustedBrowser.id == trust_id) & TrustedBrowser.revoked_at.is_null()).limit(1))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user, unless anything revoked the session since (next request)."""
    try:
        user_id = int(user_id)
    except ValueError:
        return None
    user = _SESSION_USER.first(user_id)
    if user is None or not user.is_active:
        return None
    if session.get("auth_version") != user.auth_version:
        return None
    trust_id = session.get("trust_id")
    if trust_id and _TRUSTED_BROWSER.first(trust_id) is None:
        return None  # TFA-4: the browser this session rides on was revoked
    access = access_for(user)
    if not access.has_manager:
        return None
    g.access = access
    return user


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on our own host: never an open redirect (MAIL-1 links use `next`)."""
    if not target:
        return default
    target = target.strip()
    parsed = urlparse(target)
    if (
        parsed.scheme
        or parsed.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return default
    return target


def get_for_account_or_404(model: type[Model], object_id: int) -> Model:
    """Fetch a tenant-owned row by id; another account's id answers 404 (ROLE-4)."""
    obj = model.get_or_none(
        (model.id == object_id) & (model.account == current_access().account_id)
    )
    if obj is None:
        abort(404)
    return obj


def request_is_public() -> bool:
    if request.endpoint is None:
        return True  # 404 / 405 handled by Flask
    if request.endpoint == "static":
        return True

    view = current_app.view_functions.get(request.endpoint)
    return bool(view and getattr(view, PUBLIC_ATTR, False))


def scoped_services(kinds: tuple[str, ...] | None = None):
    """Services of the current account inside the user's site scope (ROLE-3)."""
    access = current_access()
    query = Service.select().where(Service.account == access.account_id)
    if access.site_ids is not None:
        query = query.where(Service.site.in_(list(access.site_ids)))
    if kinds:
        query = query.where(Service.kind.in_(kinds))
    return query


def get_service_or_404(service_id: int, kinds: tuple[str, ...] | None = None):
    """A service of this account, in scope (sub-sites included), else 404."""
    service = scoped_services(kinds).where(Service.id == service_id).first()
    if service is None:
        abort(404)
    return service


def get_line_or_404(service_id: int):
    """A fixed line of this account, in scope, else 404."""
    return get_service_or_404(service_id, kinds=("fixed",))


def get_welcome_number_or_404(service_id: int):
    """A welcome number of this account, in scope, else 404."""
    return get_service_or_404(service_id, kinds=("welcome",))


def scoped_contacts():
    """Contacts of the current account whose site is in scope (no site = default site)."""
    return contacts_in_scope(current_access())


def get_contact_or_404(contact_id: int):
    contact = scoped_contacts().where(Contact.id == contact_id).first()
    if contact is None:
        abort(404)
    return contact


def current_actor():
    """Who acts, from where, and where their changes go (audit, engine reload, files)."""
    settings = current_app.extensions["cm_settings"]
    user = current_user._get_current_object()
    return Actor(user, client_ip(), settings.REDIS_URL, int(user.account.shard),
                 settings.DATA_DIR, engine_redis_url=settings.ENGINE_REDIS_URL)


def visitor_actor():
    """Whoever sends this request before signing in: only their address is known."""
    settings = current_app.extensions["cm_settings"]
    return Actor.visitor(client_ip(), settings.REDIS_URL, settings.DATA_DIR,
                         settings.ENGINE_REDIS_URL)

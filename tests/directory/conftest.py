"""Directory fixtures: demo ids, a site-scoped site manager, HTMX helpers."""

from __future__ import annotations

import json

import pytest

from tests.routes import demo_ids


def post(b, path: str, data: dict | None = None, target: str | None = None):
    """POST with the CSRF token; `target` makes it an HTMX request aimed at that id."""
    headers = {"HX-Request": "true", "HX-Target": target} if target else {}
    return b.post(path, data or {}, token_from="/compte", headers=headers)


def hx_get(b, path: str, target: str):
    return b.client.get(path, headers={"HX-Request": "true", "HX-Target": target})


def audit_kinds(account_id: int) -> list[str]:
    from webapp.models import AuditEvent

    return [e.kind for e in AuditEvent.select().where(AuditEvent.account == account_id)
            .order_by(AuditEvent.id)]


def audit_details(kind: str) -> list[dict]:
    from webapp.models import AuditEvent

    return [json.loads(e.detail) for e in AuditEvent.select().where(AuditEvent.kind == kind)]


@pytest.fixture
def ids(demo, db_conn):
    return demo_ids(demo.account)


@pytest.fixture
def restricted(demo, new_browser):
    """Lucas Petit, demo role "Responsable Lyon" (no sites.manage, no equipment.manage)."""
    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    return b


def make_user(account, email: str, first: str, permissions: str, scope: str,
              sites: list[int], password: str, role_name: str | None = None):
    """A contact with a licence, a user and one custom role."""
    from webapp.models import Contact, Licence, Role, RoleSite, User, UserRole, utcnow
    from webapp.services.accounts import default_site
    from webapp.services.passwords import hash_password

    contact = Contact.create(account=account, site=default_site(account), first_name=first,
                             last_name="Test", email=email)
    Licence.create(account=account, contact=contact, product="manager")
    role = Role.create(account=account, name=role_name or f"Rôle {first}",
                       permissions=permissions, scope=scope)
    for site_id in sites:
        RoleSite.create(role=role, site=site_id)
    user = User.create(account=account, contact=contact, email=email,
                       password_hash=hash_password(password), password_set_at=utcnow())
    UserRole.create(user=user, role=role)
    return user, role


@pytest.fixture
def lyon_manager(demo, ids, new_browser):
    """A site manager limited to Lyon (and Entrepôt below it, + the default site)."""
    make_user(demo.account, "site.lyon@atelier-dupont.example", "Sami",
              "sites.manage sites.access services.manage equipment.manage", "sites",
              [ids["site_lyon"]], demo.password)
    b = new_browser()
    b.sign_in("site.lyon@atelier-dupont.example", demo.password)
    return b


def text(response) -> str:
    """The response body with HTML entities decoded (French apostrophes are escaped)."""
    import html

    return html.unescape(response.get_data(as_text=True))


def section(body: str, element_id: str) -> str:
    return body.split(f'id="{element_id}"', 1)[1].split("</section>", 1)[0]

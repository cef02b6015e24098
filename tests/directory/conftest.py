"""Directory helpers: HTMX requests, audit trail, page sections (`ids`, `restricted`,
`lyon_manager` are in tests/conftest.py)."""

from __future__ import annotations

import json


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


def text(response) -> str:
    """The response body with HTML entities decoded (French apostrophes are escaped)."""
    import html

    return html.unescape(response.get_data(as_text=True))


def section(body: str, element_id: str) -> str:
    return body.split(f'id="{element_id}"', 1)[1].split("</section>", 1)[0]

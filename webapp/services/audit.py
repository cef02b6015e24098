"""Security journal. Never pass secrets (codes, links, tokens, passwords) in `detail`."""

from __future__ import annotations

import json

from webapp.models import AuditEvent


def record(kind: str, *, account=None, user=None, ip: str | None = None, **detail) -> AuditEvent:
    return AuditEvent.create(
        account=account,
        user_id=str(user.id) if user is not None else None,
        kind=kind,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
        ip=ip,
    )

"""Security journal. Never pass secrets (codes, links, tokens, passwords) in `detail`."""

from __future__ import annotations

import json

from webapp.models import AuditEvent


def record(kind: str, *, actor=None, account=None, user=None, ip: str | None = None,
           **detail) -> AuditEvent:
    """`actor` (a `webapp.services.actor.Actor`) says who and from where; `user`/`ip`
    alone serve the few events recorded before anyone is known."""
    if actor is not None:
        user, ip = actor.user, actor.ip
    return AuditEvent.create(
        account=account,
        user_id=str(user.id) if user is not None else None,
        kind=kind,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
        ip=ip,
    )

"""Keyyo Phone credentials (DIR-4): one device per fixed line, secret shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from webapp.db import db
from webapp.models import Service, SoftphoneCredential, utcnow
from webapp.services import audit
from webapp.services.tokens import digest


@dataclass(frozen=True)
class Issued:
    login: str
    secret: str  # shown once, never stored


def live(service: Service) -> SoftphoneCredential | None:
    return (SoftphoneCredential.select()
            .where((SoftphoneCredential.service == service.id)
                   & SoftphoneCredential.revoked_at.is_null())
            .order_by(SoftphoneCredential.id.desc()).first())


def generate(service: Service, *, user=None, ip=None) -> Issued:
    """New credentials; every earlier one of this line is revoked in the same transaction."""
    if service.kind != "fixed":
        raise ValueError("Keyyo Phone credentials exist for fixed lines only")
    secret = secrets.token_urlsafe(18)
    login = f"kp{service.number.lstrip('+')}-{secrets.token_hex(3)}"
    now = utcnow()
    with db.atomic():
        revoked = SoftphoneCredential.update(revoked_at=now).where(
            (SoftphoneCredential.service == service.id)
            & SoftphoneCredential.revoked_at.is_null()).execute()
        SoftphoneCredential.create(account=service.account_id, service=service.id, login=login,
                                   secret_hash=digest(secret),
                                   created_by=str(user.id) if user else None, created_at=now)
    audit.record("softphone.generated", account=service.account_id, user=user, ip=ip,
                 service=service.id, login=login, revoked=revoked)
    return Issued(login, secret)


def verify(login: str, secret: str) -> bool:
    """What the SIP registrar asks: is this live pair valid?"""
    row = SoftphoneCredential.get_or_none((SoftphoneCredential.login == login)
                                          & SoftphoneCredential.revoked_at.is_null())
    return row is not None and secrets.compare_digest(row.secret_hash, digest(secret))

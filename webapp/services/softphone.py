"""Keyyo Phone credentials (DIR-4): one device per fixed line, secret shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from webapp.db import db
from webapp.models import Service, SoftphoneCredential, utcnow
from webapp.redis_conn import engine_redis_for
from webapp.services import audit, sip_directory
from webapp.services.actor import Actor
from webapp.services.tokens import digest
from webapp.settings import load


@dataclass(frozen=True)
class Issued:
    login: str
    secret: str  # shown once, never stored


def live(service: Service) -> SoftphoneCredential | None:
    return (SoftphoneCredential.select()
            .where((SoftphoneCredential.service == service.id)
                   & SoftphoneCredential.revoked_at.is_null())
            .order_by(SoftphoneCredential.id.desc()).first())


def generate(service: Service, *, actor: Actor) -> Issued:
    """New credentials; every earlier one of this line is revoked in the same transaction."""
    if service.kind != "fixed":
        raise ValueError("Keyyo Phone credentials exist for fixed lines only")
    secret = secrets.token_urlsafe(18)
    login = f"kp{service.number.lstrip('+')}-{secrets.token_hex(3)}"
    now = utcnow()
    with db.atomic():
        old = [c.login for c in SoftphoneCredential.select(SoftphoneCredential.login).where(
            (SoftphoneCredential.service == service.id)
            & SoftphoneCredential.revoked_at.is_null())]
        revoked = SoftphoneCredential.update(revoked_at=now).where(
            (SoftphoneCredential.service == service.id)
            & SoftphoneCredential.revoked_at.is_null()).execute()
        cred = SoftphoneCredential.create(
            account=service.account_id, service=service.id, login=login,
            secret_hash=digest(secret), sip_ha1=sip_directory.ha1(login, secret),
            created_by=str(actor.user.id) if actor.user else None, created_at=now)
    # PBX-1: Kamailio learns the new login and drops the old registration at once
    engine = engine_redis_for(actor.engine_url or load().ENGINE_REDIS_URL)  # Kamailio reads it
    sip_directory.credentials_changed(service, cred, engine, old)
    audit.record("softphone.generated", account=service.account_id, actor=actor,
                 service=service.id, login=login, revoked=revoked)
    return Issued(login, secret)


def verify(login: str, secret: str) -> bool:
    """What the SIP registrar asks: is this live pair valid?"""
    row = SoftphoneCredential.get_or_none((SoftphoneCredential.login == login)
                                          & SoftphoneCredential.revoked_at.is_null())
    return row is not None and secrets.compare_digest(row.secret_hash, digest(secret))

"""What Kamailio needs to know, published in Redis (PBX-1; docs/telephony.md).

Like the liste noire (webapp/services/blacklist.py), the database stays the truth and
Redis holds a copy the SIP side reads:
- `pbx:sip:user:<login>` = "<HA1>|<line>|<shard>" for every live Keyyo Phone credential
  (DIR-4). HA1 = MD5(login:realm:secret), what SIP digest needs; the clear secret is never
  stored or published.
- `pbx:sip:number:<e164>` = "line|<shard>" (fixed lines) or "welcome|<shard>".
- `pbx:sip:ctl`: "kick <line> <shard>" when credentials are regenerated, so that Kamailio
  drops the old registration at once (it also sends `line.unregistered`).
`sync_all()` rebuilds everything (run by `python -m pbx.sip` before Kamailio starts).
"""

from __future__ import annotations

import hashlib
import logging

from pbx.settings import load as pbx_settings
from webapp.models import Service, SoftphoneCredential
from webapp.services.shards import shard_of

log = logging.getLogger(__name__)

USER = "pbx:sip:user:{login}"
NUMBER = "pbx:sip:number:{number}"
CTL = "pbx:sip:ctl"


def realm() -> str:
    return pbx_settings().realm


def ha1(login: str, secret: str, realm_: str | None = None) -> str:
    return hashlib.md5(f"{login}:{realm_ or realm()}:{secret}".encode()).hexdigest()  # noqa: S324 - SIP digest


def _user_value(cred: SoftphoneCredential, line: str, shard: int) -> str:
    return f"{cred.sip_ha1}|{line}|{shard}"


def credentials_changed(service: Service, cred: SoftphoneCredential, conn,
                        revoked_logins: list[str]) -> bool:
    """After `softphone.generate` committed: publish the new login, remove the old ones
    and ask Kamailio to drop the line's current registration. False if Redis is down
    (the next `sync_all` repairs it; the old login stays refused since it is not live)."""
    shard = shard_of(service.account_id)
    try:
        pipe = conn.pipeline(transaction=True)
        for login in revoked_logins:
            pipe.delete(USER.format(login=login))
        if cred is not None and cred.sip_ha1:
            pipe.set(USER.format(login=cred.login), _user_value(cred, service.number, shard))
        pipe.set(NUMBER.format(number=service.number), f"line|{shard}")
        if revoked_logins:
            pipe.rpush(CTL, f"kick {service.number} {shard}")
        pipe.execute()
        return True
    except Exception as exc:  # Redis down: the database stays the truth
        log.warning("SIP credentials of %s not published: %s", service.number,
                    type(exc).__name__)
        return False


def sync_all(conn) -> tuple[int, int]:
    """Rewrite every `pbx:sip:user:*` and `pbx:sip:number:*` from the database;
    returns (logins, numbers)."""
    users: dict[str, str] = {}
    query = (SoftphoneCredential.select(SoftphoneCredential, Service)
             .join(Service)
             .where(SoftphoneCredential.revoked_at.is_null()
                    & SoftphoneCredential.sip_ha1.is_null(False)))
    for cred in query:
        users[USER.format(login=cred.login)] = _user_value(
            cred, cred.service.number, shard_of(cred.service.account_id))
    numbers = {NUMBER.format(number=s.number): f"{'line' if s.kind == 'fixed' else 'welcome'}"
                                               f"|{shard_of(s.account_id)}"
               for s in Service.select(Service.number, Service.kind, Service.account)
               .where(Service.kind.in_(("fixed", "welcome")))}
    stale = [k for k in conn.scan_iter(match="pbx:sip:user:*", count=1000)
             if (k.decode() if isinstance(k, bytes) else k) not in users]
    pipe = conn.pipeline(transaction=False)
    if stale:
        pipe.delete(*stale)
    for key, value in {**users, **numbers}.items():
        pipe.set(key, value)
    pipe.execute()
    return len(users), len(numbers)

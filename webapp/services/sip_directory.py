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

from engine.redis_client import one_node
from webapp.models import Account, Service, SoftphoneCredential
from webapp.settings import sip_realm

log = logging.getLogger(__name__)

USER = "pbx:sip:user:{login}"
NUMBER = "pbx:sip:number:{number}"
CTL = "pbx:sip:ctl"


def realm() -> str:
    return sip_realm()


def ha1(login: str, secret: str, realm_: str | None = None) -> str:
    return hashlib.md5(f"{login}:{realm_ or realm()}:{secret}".encode()).hexdigest()  # noqa: S324 - SIP digest


def _user_value(cred: SoftphoneCredential, line: str, shard: int) -> str:
    return f"{cred.sip_ha1}|{line}|{shard}"


def credentials_changed(service: Service, cred: SoftphoneCredential, conn,
                        revoked_logins: list[str]) -> bool:
    """After `softphone.generate` committed: publish the new login, remove the old ones
    and ask Kamailio to drop the line's current registration. False if Redis is down
    (the next `sync_all` repairs it; the old login stays refused since it is not live)."""
    shard = int(Account.select(Account.shard).where(Account.id == service.account_id)
                .scalar() or 0)
    try:
        # one MULTI/EXEC on a single Redis; on a Redis Cluster the keys are on several
        # nodes: in this order, the new login before the old ones go and the kick
        pipe = conn.pipeline(transaction=one_node(conn))
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


def _entries(account_id: int | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """({user key: value}, {number key: value}) from the database, for one account or all."""
    query = (SoftphoneCredential.select(SoftphoneCredential, Service.number, Account.shard)
             .join(Service).join(Account)
             .where(SoftphoneCredential.revoked_at.is_null()
                    & SoftphoneCredential.sip_ha1.is_null(False)))
    services = (Service.select(Service.number, Service.kind, Account.shard).join(Account)
                .where(Service.kind.in_(("fixed", "welcome"))))
    if account_id is not None:
        query = query.where(Service.account == account_id)
        services = services.where(Service.account == account_id)
    users = {USER.format(login=cred.login): _user_value(cred, cred.service.number,
                                                        cred.service.account.shard)
             for cred in query}
    numbers = {NUMBER.format(number=s.number): f"{'line' if s.kind == 'fixed' else 'welcome'}"
                                               f"|{s.account.shard}"
               for s in services}
    return users, numbers


def sync_all(conn) -> tuple[int, int]:
    """Rewrite every `pbx:sip:user:*` and `pbx:sip:number:*` from the database;
    returns (logins, numbers)."""
    users, numbers = _entries()
    stale = [k for k in conn.scan_iter(match="pbx:sip:user:*", count=1000)
             if (k.decode() if isinstance(k, bytes) else k) not in users]
    pipe = conn.pipeline(transaction=False)
    for key in stale:  # one by one: on a Redis Cluster they live on several nodes
        pipe.delete(key)
    for key, value in {**users, **numbers}.items():
        pipe.set(key, value)
    pipe.execute()
    return len(users), len(numbers)


def account_moved(account_id: int, conn) -> int:
    """Republish one account's numbers and logins with its (new) shard (SCALE-1 shard
    move): Kamailio and the connector then send its lines' and numbers' events there."""
    users, numbers = _entries(account_id)
    pipe = conn.pipeline(transaction=False)
    for key, value in {**users, **numbers}.items():
        pipe.set(key, value)
    pipe.execute()
    return len(users) + len(numbers)

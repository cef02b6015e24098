"""Liste noire (LINE-4): up to 20 blocked numbers per line, plus anonymous callers.

The PBX side reads the blacklist from Redis, not from the engine configuration
document (whose `lines` section adapters rely on): hash `pbx:blacklist:{line}` holds
one field per blocked E.164 number and the field `anonymous` when anonymous callers
are blocked (values "1"). It is rewritten atomically (MULTI: DEL + HSET) after every
committed change, and `sync_all()` rebuilds every line's hash (run by the CDR/calllog
process at start, so that a flushed Redis is repaired). Blocked calls go to voicemail.
"""

from __future__ import annotations

import logging

from peewee import IntegrityError

from webapp.db import db
from webapp.i18n import _
from webapp.models import Service
from webapp.models.history import ANONYMOUS, BlockedNumber
from webapp.redis_conn import engine_redis_for
from webapp.services import audit, phones
from webapp.services.actor import Actor
from webapp.services.errors import FormError

log = logging.getLogger(__name__)

LIMIT = 20
KEY = "pbx:blacklist:{line}"


def entries(service: Service) -> tuple[list[str], bool]:
    """(blocked E.164 numbers in the order added, anonymous callers blocked?)."""
    rows = [b.number for b in BlockedNumber.select().where(BlockedNumber.service == service.id)
            .order_by(BlockedNumber.created_at, BlockedNumber.id)]
    return [n for n in rows if n != ANONYMOUS], ANONYMOUS in rows


def add_number(service: Service, raw: str, actor: Actor) -> str:
    """Block one more number; FormError (French, typed value kept) when refused."""
    number = phones.checked(raw, "number", {"number": raw}, required=True)
    with db.atomic():
        numbers, _anon = entries(service)
        if number in numbers:
            raise FormError({"number": _("Le %(number)s est déjà bloqué.",
                                         number=phones.display(number))},
                            {"number": raw})
        if len(numbers) >= LIMIT:
            raise FormError({"number": _("La liste noire compte déjà %(limit)s numéros, le "
                                         "maximum : retirez-en un avant d'en ajouter un autre.",
                                         limit=LIMIT)},
                            {"number": raw})
        try:
            BlockedNumber.create(service=service.id, number=number)
        except IntegrityError as exc:
            raise FormError({"number": _("Le %(number)s est déjà bloqué.",
                                         number=phones.display(number))},
                            {"number": raw}) from exc
    audit.record("blacklist.added", account=service.account_id, user=actor.user, ip=actor.ip,
                 service=service.id, number=number)
    publish(service, actor.engine_url)
    return number


def remove_number(service: Service, number: str, actor: Actor) -> bool:
    deleted = BlockedNumber.delete().where((BlockedNumber.service == service.id)
                                           & (BlockedNumber.number == number)
                                           & (BlockedNumber.number != ANONYMOUS)).execute()
    if deleted:
        audit.record("blacklist.removed", account=service.account_id, user=actor.user,
                     ip=actor.ip, service=service.id, number=number)
        publish(service, actor.engine_url)
    return bool(deleted)


def set_anonymous(service: Service, blocked: bool, actor: Actor) -> None:
    with db.atomic():
        exists = BlockedNumber.select().where((BlockedNumber.service == service.id)
                                              & (BlockedNumber.number == ANONYMOUS)).exists()
        if blocked and not exists:
            BlockedNumber.create(service=service.id, number=ANONYMOUS)
        elif not blocked and exists:
            BlockedNumber.delete().where((BlockedNumber.service == service.id)
                                         & (BlockedNumber.number == ANONYMOUS)).execute()
        else:
            return
    audit.record("blacklist.anonymous", account=service.account_id, user=actor.user,
                 ip=actor.ip, service=service.id, blocked=blocked)
    publish(service, actor.engine_url)


def publish(service: Service, redis_url: str, conn=None) -> bool:
    """Rewrite `pbx:blacklist:{line}` from the database, next to the engine's keys where
    the PBX side reads it (`redis_url`: ENGINE_REDIS_URL, a Redis or a Redis Cluster —
    one key, so its MULTI/EXEC is one slot's); False if Redis is unreachable (the next
    change or `sync_all` repairs it)."""
    numbers, anonymous = entries(service)
    fields = {n: "1" for n in numbers}
    if anonymous:
        fields[ANONYMOUS] = "1"
    try:
        conn = conn or engine_redis_for(redis_url)
        pipe = conn.pipeline(transaction=True)
        pipe.delete(KEY.format(line=service.number))
        if fields:
            pipe.hset(KEY.format(line=service.number), mapping=fields)
        pipe.execute()
        return True
    except Exception as exc:  # Redis down: the database stays the truth
        log.warning("blacklist of %s not published: %s", service.number, type(exc).__name__)
        return False


def sync_all(conn) -> int:
    """Rebuild every line's hash from the database (process start)."""
    lines = Service.select().where(Service.id.in_(
        BlockedNumber.select(BlockedNumber.service).distinct()))
    count = 0
    for service in lines:
        publish(service, "", conn=conn)
        count += 1
    return count


def is_blocked(conn, line: str, peer: str) -> bool:
    """What the PBX side does with the hash (used by tests and the simulator docs)."""
    field = ANONYMOUS if not peer or peer == ANONYMOUS else peer
    return bool(conn.hexists(KEY.format(line=line), field))

"""Which routing profile answers a welcome number at a given time (WN-1 "Aperçu"),
computed by the engine's own `route` on the number's document section."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from engine.config import ConfigError, parse
from engine.model import route
from webapp.models import Account, Service, WelcomeProfile
from webapp.services.engine_config import number_section


def preview(service: Service, when_local: dt.datetime | None = None) -> tuple[
        WelcomeProfile | None, dt.datetime]:
    """Which profile answers at `when_local` (naive, account time zone; default now),
    computed by the engine's own `route` on this number's document section."""
    account = Account.get_by_id(service.account_id)
    zone = ZoneInfo(account.timezone or "Europe/Paris")
    if when_local is None:
        when_local = dt.datetime.now(zone).replace(tzinfo=None, second=0, microsecond=0)
    section = number_section(service)
    if section is None:
        return None, when_local
    try:
        config = parse({"timezone": zone.key, "lines": {},
                        "numbers": {service.number: section}})
    except ConfigError:
        return None, when_local
    now_ms = int(when_local.replace(tzinfo=zone).timestamp() * 1000)
    key = route(config, config.numbers[service.number], now_ms)
    return WelcomeProfile.get_or_none((WelcomeProfile.service == service.id)
                                      & (WelcomeProfile.key == key)), when_local

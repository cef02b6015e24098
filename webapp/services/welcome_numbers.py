"""A welcome number's routing tables as pages and the engine read them (WN-1..4).

Profiles (`routing_profiles`), time rules (`time_rules`), which profile answers now
(`routing_preview`) and the engine document (`engine_config`) all read through here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from webapp.i18n import _
from webapp.models import AudioFile, Service
from webapp.models.welcome import WelcomeLine, WelcomeMenuKey, WelcomeProfile, WelcomeTimeRule

MENU_KEYS = "123456789*0#"
DAY_NAMES = (_("Lundi"), _("Mardi"), _("Mercredi"), _("Jeudi"), _("Vendredi"), _("Samedi"),
             _("Dimanche"))
DAY_SHORT = (_("Lun"), _("Mar"), _("Mer"), _("Jeu"), _("Ven"), _("Sam"), _("Dim"))


@dataclass
class RoutingChange:
    """What a change of a welcome number's routing did: the profile concerned, and
    whether the engine was told (`config.reload`)."""

    profile: WelcomeProfile | None = None
    engine_notified: bool = True


def profiles_of(service: Service) -> list[WelcomeProfile]:
    return list(WelcomeProfile.select().where(WelcomeProfile.service == service.id)
                .order_by(WelcomeProfile.is_entry.desc(), WelcomeProfile.name))


def profile_of(service: Service, profile_id: int) -> WelcomeProfile | None:
    return WelcomeProfile.get_or_none((WelcomeProfile.id == profile_id)
                                      & (WelcomeProfile.service == service.id))


def rule_of(service: Service, rule_id: int) -> WelcomeTimeRule | None:
    return WelcomeTimeRule.get_or_none((WelcomeTimeRule.id == rule_id)
                                       & (WelcomeTimeRule.service == service.id))


def rules_of(service: Service) -> list[WelcomeTimeRule]:
    """Dated exceptions first (by date), then weekly slots: the order the engine applies."""
    rows = list(WelcomeTimeRule.select().where(WelcomeTimeRule.service == service.id))
    return sorted(rows, key=lambda r: (r.date is None, r.date or dt.date.min,
                                       r.days or "", r.start or "", r.id))


def lines_of(profile: WelcomeProfile) -> list[WelcomeLine]:
    return list(WelcomeLine.select(WelcomeLine, Service).join(Service)
                .where(WelcomeLine.profile == profile.id)
                .order_by(WelcomeLine.position, WelcomeLine.id))


def keys_of(profile: WelcomeProfile) -> list[WelcomeMenuKey]:
    rows = list(WelcomeMenuKey.select().where(WelcomeMenuKey.profile == profile.id))
    return sorted(rows, key=lambda k: MENU_KEYS.index(k.key))


def entry_level_ids(service_id: int) -> set[int]:
    """Profiles a call can start in: the entry profile and every time rule's profile."""
    ids = {p.id for p in WelcomeProfile.select(WelcomeProfile.id).where(
        (WelcomeProfile.service == service_id) & WelcomeProfile.is_entry)}
    ids |= {r.profile_id for r in WelcomeTimeRule.select(WelcomeTimeRule.profile).where(
        WelcomeTimeRule.service == service_id)}
    return ids


def audio_choices(account_id: int) -> dict[str, list[AudioFile]]:
    files = list(AudioFile.select().where(AudioFile.account == account_id)
                 .order_by(AudioFile.name))
    return {"announcement": [f for f in files if f.kind == "announcement"],
            "music": [f for f in files if f.kind == "music"]}


def is_queue_agent(service: Service) -> bool:
    """Whether this fixed line is an agent: a line of any welcome-number profile."""
    return WelcomeLine.select().where(WelcomeLine.line == service.id).exists()


def describe_rule(rule: WelcomeTimeRule) -> str:
    hours = (f"{rule.start}–{rule.end}" if rule.start and (rule.start, rule.end)
             != ("00:00", "24:00") else _("toute la journée"))
    if rule.date:
        return _("Le %(date)s, %(hours)s",
                 date=rule.date, hours=hours)
    days = [int(d) for d in (rule.days or "").split(",") if d]
    return f"{', '.join(DAY_SHORT[d] for d in days)} {hours}"

"""SCALE-3 (engine side): a welcome number's time rules run in its own time zone
(`numbers.<n>.timezone`, IANA; the document's `timezone` otherwise), daylight-saving
days included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.config import ConfigError, parse
from engine.model import route
from tests.engine.conftest import A1, NUM, Core

REUNION = "+262262000001"
OPEN = {"days": [0, 1, 2, 3, 4, 5, 6], "from": "09:00", "to": "18:00", "profile": "jour"}
PROFILES = {"jour": {"type": "announcement", "media": "ouvert"},
            "nuit": {"type": "announcement", "media": "ferme"}}


def utc_ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def doc(**zones: str | None) -> dict:
    """One number per zone given (paris=..., reunion=...), the same weekly rule."""
    numbers = {}
    for number, zone in ((NUM, zones.get("paris")), (REUNION, zones.get("reunion"))):
        section = {"entry": "nuit", "rules": [OPEN], "profiles": PROFILES}
        if zone is not None:
            section["timezone"] = zone
        numbers[number] = section
    return {"timezone": "Europe/Paris", "lines": {}, "numbers": numbers}


def test_scale3_same_weekly_rule_answers_differently_in_paris_and_reunion():
    config = parse(doc(paris="Europe/Paris", reunion="Indian/Reunion"))
    at = utc_ms(2026, 1, 5, 6, 30)  # Monday: 07:30 in Paris (UTC+1), 10:30 in Réunion (UTC+4)
    assert route(config, config.numbers[NUM], at) == "nuit"
    assert route(config, config.numbers[REUNION], at) == "jour"
    at = utc_ms(2026, 1, 5, 15, 30)  # 16:30 in Paris, 19:30 in Réunion
    assert route(config, config.numbers[NUM], at) == "jour"
    assert route(config, config.numbers[REUNION], at) == "nuit"


def test_scale3_the_engine_plays_each_numbers_own_answer_at_the_same_instant():
    at = utc_ms(2026, 1, 5, 6, 30)
    core = Core(doc(paris="Europe/Paris", reunion="Indian/Reunion"), now=at)
    core.register(A1)
    core.arrive("c-paris", number=NUM)
    core.arrive("c-reunion", number=REUNION)
    played = {c["call"]: c["media"] for c in core.commands if c["type"] == "play"}
    assert played == {"c-paris": "ferme", "c-reunion": "ouvert"}


def test_scale3_a_number_without_timezone_keeps_the_documents():
    config = parse(doc(reunion="Indian/Reunion"))
    assert config.numbers[NUM].timezone is None
    at = utc_ms(2026, 1, 5, 6, 30)  # 07:30 in Paris, the document's zone
    assert route(config, config.numbers[NUM], at) == "nuit"


@pytest.mark.parametrize(("instant", "expected"), [
    # spring forward, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST (UTC+2)
    (utc_ms(2026, 3, 29, 7, 30), "jour"),   # 09:30 CEST (it would be 08:30 at UTC+1)
    (utc_ms(2026, 3, 29, 6, 30), "nuit"),   # 08:30 CEST
    (utc_ms(2026, 3, 22, 7, 30), "nuit"),   # the Sunday before: 08:30 CET
    (utc_ms(2026, 3, 29, 15, 59), "jour"),  # 17:59 CEST
    (utc_ms(2026, 3, 29, 16, 0), "nuit"),   # 18:00 CEST: closed
    # fall back, Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET (UTC+1)
    (utc_ms(2026, 10, 25, 7, 30), "nuit"),  # 08:30 CET (it would be 09:30 at UTC+2)
    (utc_ms(2026, 10, 25, 8, 0), "jour"),   # 09:00 CET
    (utc_ms(2026, 10, 18, 7, 30), "jour"),  # the Sunday before: 09:30 CEST
    (utc_ms(2026, 10, 25, 16, 59), "jour"),  # 17:59 CET
])
def test_scale3_paris_daylight_saving_days_follow_the_local_clock(instant, expected):
    config = parse(doc(paris="Europe/Paris", reunion="Indian/Reunion"))
    assert route(config, config.numbers[NUM], instant) == expected
    # Réunion has no daylight saving: its 09:00 is 05:00 UTC all year
    assert route(config, config.numbers[REUNION], utc_ms(2026, 3, 29, 5, 0)) == "jour"
    assert route(config, config.numbers[REUNION], utc_ms(2026, 10, 25, 4, 59)) == "nuit"


def test_scale3_a_dated_rule_uses_the_numbers_local_date():
    closed_day = {"date": "2026-12-25", "profile": "nuit"}
    d = doc(paris="Europe/Paris", reunion="Indian/Reunion")
    for section in d["numbers"].values():
        section["rules"] = [closed_day, OPEN]
    config = parse(d)
    at = utc_ms(2026, 12, 24, 21, 30)  # 22:30 on the 24th in Paris, 01:30 on the 25th in Réunion
    assert route(config, config.numbers[REUNION], at) == "nuit"
    at = utc_ms(2026, 12, 25, 20, 30)  # 21:30 on the 25th in Paris, 00:30 on the 26th in Réunion
    assert route(config, config.numbers[NUM], at) == "nuit"
    assert route(config, config.numbers[REUNION], utc_ms(2026, 12, 26, 6, 0)) == "jour"


def test_scale3_an_unknown_zone_is_refused_naming_the_path():
    with pytest.raises(ConfigError) as err:
        parse(doc(paris="Europe/Lutece"))
    assert err.value.errors == [
        f"numbers.{NUM}.timezone: must be an IANA time zone like Europe/Paris"]

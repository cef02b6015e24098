"""docs/protocol.md "Configuration document": refused with messages naming the faulty path."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.config import ConfigError, load_file, parse
from engine.model import AgentCfg, LineCfg, route
from tests.engine.conftest import A1, NUM, number_doc, queue_doc

P = f"numbers.{NUM}.profiles.jour"


def with_queue(**over):
    return queue_doc(**over)


@pytest.mark.parametrize("doc, message", [
    (with_queue(size=11), f"{P}.size: must be 1..10"),
    (with_queue(size=0), f"{P}.size: must be 1..10"),
    (with_queue(size=True), f"{P}.size: must be 1..10"),
    (with_queue(rest_s=241), f"{P}.rest_s: must be 0..240"),
    (with_queue(ring_s=4), f"{P}.ring_s: must be 5..120"),
    (with_queue(mode="fifo"), f"{P}.mode: must be inactivity or random"),
    (with_queue(confirm="yes"), f"{P}.confirm: must be true or false"),
    (with_queue(agents=[(A1, 6, 1)]), f"{P}.agents.0.priority: must be 1..5"),
    (with_queue(agents=[(A1, 1, 0)]), f"{P}.agents.0.weight: must be 1..5"),
    (with_queue(agents=[("0100", 1, 1)]),
     f"{P}.agents.0.line: must be an E.164 number like +33100000001"),
    (with_queue(agents=[(A1, 1, 1), (A1, 2, 1)]),
     f"{P}.agents.1.line: appears twice in this queue"),
    (with_queue(music=""), f"{P}.music: must be a media id or null"),
    (with_queue(lines={A1: {"backup": "06"}}),
     f"lines.{A1}.backup: must be an E.164 number like +33100000001"),
    (number_doc({"x": {"type": "fax"}}, "x"),
     f"numbers.{NUM}.profiles.x.type: must be one of queue, ring_all, sequential, menu, "
     "announcement"),
    (number_doc({"x": {"type": "announcement", "media": "m"}}, "y"),
     f"numbers.{NUM}.entry: must name a profile of this number"),
    (number_doc({"x": {"type": "ring_all", "lines": [A1], "then": "z"}}, "x"),
     f"numbers.{NUM}.profiles.x.then: must name a profile of this number or be null"),
    (number_doc({"x": {"type": "menu", "media": "m", "keys": {"12": "x"}}}, "x"),
     f"numbers.{NUM}.profiles.x.keys.12: must be one key among 0-9, * and #"),
    (number_doc({"x": {"type": "announcement"}}, "x"),
     f"numbers.{NUM}.profiles.x.media: must be a media id"),
    (number_doc({"x": {"type": "announcement", "media": "m"}}, "x",
                [{"days": [7], "profile": "x"}]),
     f"numbers.{NUM}.rules.0.days: must be a non-empty list of 0..6 (0 = Monday)"),
    (number_doc({"x": {"type": "announcement", "media": "m"}}, "x",
                [{"date": "2026-02-30", "profile": "x"}]),
     f"numbers.{NUM}.rules.0.date: must be a date YYYY-MM-DD"),
    (number_doc({"x": {"type": "announcement", "media": "m"}}, "x",
                [{"days": [0], "from": "18:00", "to": "09:00", "profile": "x"}]),
     f"numbers.{NUM}.rules.0.to: must be after from"),
    (number_doc({"x": {"type": "announcement", "media": "m"}}, "x",
                [{"days": [0], "from": "9h", "to": "18:00", "profile": "x"}]),
     f"numbers.{NUM}.rules.0.from: must be HH:MM"),
    ({**queue_doc(), "timezone": "Mars/Olympus"},
     "timezone: must be an IANA time zone like Europe/Paris"),
    ({"timezone": "Europe/Paris"}, "numbers: is required"),
])
def test_invalid_document_is_refused_naming_the_faulty_path(doc, message):
    with pytest.raises(ConfigError) as exc:
        parse(doc)
    assert message in exc.value.errors


def test_every_error_is_reported_at_once():
    doc = with_queue(size=0, rest_s=-1)
    with pytest.raises(ConfigError) as exc:
        parse(doc)
    assert len(exc.value.errors) == 2


def test_valid_document_parses_with_defaults():
    doc = queue_doc()
    del doc["lines"]
    cfg = parse(doc)
    assert cfg.lines == {} and cfg.numbers[NUM].profiles["jour"].size == 5


def test_demo_config_is_valid():
    cfg = load_file(Path(__file__).parents[2] / "engine" / "demo_config.json")
    assert len(cfg.numbers["+33100000001"].profiles["accueil"].agents) == 4


def test_unreadable_file_is_refused(tmp_path):
    bad = tmp_path / "doc.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="cannot read JSON"):
        load_file(bad)


def protocol_example() -> dict:
    """The JSON block of docs/protocol.md "Configuration document", as the page shows it."""
    page = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    section = page.split("\n## Configuration document\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```json\n(.*?)^```$", section, re.M | re.S)
    assert len(blocks) == 1, "docs/protocol.md: one JSON example under Configuration document"
    return json.loads(blocks[0])


def test_protocol_example_document_is_valid_and_routes_as_its_rules_say():
    cfg = parse(protocol_example())
    assert cfg.timezone == "Europe/Paris"
    assert cfg.lines["+33100000101"] == LineCfg(accept_queue_calls=True, backup="+33600000001")
    number = cfg.numbers["+33100000001"]
    jour, nuit = number.profiles["jour"], number.profiles["nuit"]
    assert (jour.type, jour.size, jour.rest_s, jour.ring_s, jour.mode, jour.confirm) == (
        "queue", 5, 10, 20, "inactivity", False)
    assert jour.agents == (AgentCfg("+33100000101", priority=1, weight=1),)
    assert (nuit.type, nuit.media) == ("announcement", "ferme")
    # weekdays 09:00-18:00 Paris time: the queue; before, after and at the weekend: "nuit"
    paris = ZoneInfo("Europe/Paris")

    def at(*when: int) -> str:
        return route(cfg, number, int(dt.datetime(*when, tzinfo=paris).timestamp() * 1000))

    assert at(2026, 12, 4, 9, 0) == "jour"  # a Friday
    assert at(2026, 12, 4, 17, 59) == "jour"
    assert at(2026, 12, 4, 18, 0) == "nuit"
    assert at(2026, 12, 4, 8, 59) == "nuit"
    assert at(2026, 12, 5, 10, 0) == "nuit"  # Saturday

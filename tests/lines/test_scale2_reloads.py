"""SCALE-2 (web side): every edit publishes the welcome numbers it touched, and the
builder, asked for those numbers, queries and returns only their sections and lines."""

from __future__ import annotations

from engine.config import parse
from tests.lines.conftest import engine_events
from webapp.models import Service, WelcomeProfile
from webapp.services import forwarding, routing_profiles
from webapp.services.engine_config import build_document, numbers_naming

WELCOME, AGENT = "+33100000001", "+33100000101"


def test_scale2_a_welcome_number_edit_reloads_that_number_only(actor, redis_conn):
    service = Service.get(Service.number == WELCOME)
    other = WelcomeProfile.get((WelcomeProfile.service == service.id)
                               & ~WelcomeProfile.is_entry)
    outcome = routing_profiles.set_entry(service, other, actor)
    assert outcome.engine_notified
    assert [(e["type"], e["numbers"]) for e in engine_events(redis_conn)] == [
        ("config.reload", WELCOME)]


def test_scale2_a_lines_queue_settings_reload_the_numbers_naming_it(actor, redis_conn):
    line = Service.get(Service.number == AGENT)
    naming = numbers_naming([AGENT])
    assert WELCOME in naming
    forwarding.set_queue_settings(line, {"backup_number": ""}, actor)  # flag off
    assert [(e["type"], e["numbers"]) for e in engine_events(redis_conn)] == [
        ("config.reload", ",".join(naming))]


def test_scale2_a_line_no_profile_names_touches_no_number(actor, ids, redis_conn):
    line = Service.create(account=Service.get(Service.number == AGENT).account_id,
                          site=ids["site_paris"], kind="fixed", number="+33100000152",
                          label="Ligne hors file")
    forwarding.set_queue_settings(line, {"backup_number": ""}, actor)
    assert [(e["type"], e["numbers"]) for e in engine_events(redis_conn)] == [
        ("config.reload", "")]


def test_scale2_the_builder_returns_only_the_listed_numbers_and_their_lines(actor):
    whole = build_document(0)
    scoped = build_document(0, numbers=[WELCOME])
    assert scoped["numbers"] == {WELCOME: whole["numbers"][WELCOME]}
    named = {a["line"] for p in whole["numbers"][WELCOME]["profiles"].values()
             for a in p.get("agents", ())} | {
        li for p in whole["numbers"][WELCOME]["profiles"].values() for li in p.get("lines", ())}
    assert scoped["lines"] == {k: v for k, v in whole["lines"].items() if k in named}
    assert len(scoped["lines"]) < len(whole["lines"])
    parse(scoped)  # a valid document on its own
    assert build_document(0, numbers=["+33999999999"])["numbers"] == {}  # gone: left out

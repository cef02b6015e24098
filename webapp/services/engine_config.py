"""The engine's configuration document, built from the database (PROTOCOL.md).

This is "the one function" the engine calls when started without `--config`
and again on every `config.reload`. Same shape as the JSON file: `lines` from
the fixed lines' queue settings (LINE-3), `numbers` from the welcome numbers'
routing profiles and time rules (WN-1..4) as their tables provide them.
"""

from __future__ import annotations

from webapp.db import db, init_db
from webapp.models import Account, Service, WelcomeLine, WelcomeProfile
from webapp.settings import load

DOCUMENT_TIMEZONE = "Europe/Paris"


def shard_accounts(shard: int):
    """The ids of the accounts on `shard` (SCALE-1), as a subquery."""
    return Account.select(Account.id).where(Account.shard == shard)


# Areas that own welcome-number routing register a builder here:
# fn(shard, numbers) -> {number: {"entry": ..., "rules": [...], "profiles": {...}}}, for
# the shard's numbers, or only those of `numbers` when it is not None (scoped reload)
def _welcome_numbers(shard: int, numbers: list[str] | None = None) -> dict[str, dict]:
    from webapp.services.welcome import numbers_section  # issue 6: WN-1..4 tables

    return numbers_section(shard, numbers)


NUMBER_BUILDERS: list = [_welcome_numbers]


def lines_section(shard: int = 0, only: set[str] | None = None) -> dict[str, dict]:
    """The shard's fixed lines' queue settings (or only those of the lines in `only`)."""
    lines: dict[str, dict] = {}
    where = (Service.kind == "fixed") & Service.account.in_(shard_accounts(shard))
    if only is not None:
        where &= Service.number.in_(sorted(only))
    query = Service.select(Service.number, Service.accept_queue_calls,
                           Service.backup_number).where(where)
    for number, accept, backup in query.tuples():
        entry: dict = {"accept_queue_calls": bool(accept)}
        if backup:
            entry["backup"] = backup
        lines[number] = entry
    return lines


def named_lines(sections: dict[str, dict]) -> set[str]:
    """The lines the profiles of these number sections name (agents, rung lines)."""
    return {line for section in sections.values() for prof in section["profiles"].values()
            for line in [a["line"] for a in prof.get("agents", ())] + list(prof.get("lines", ()))}


def numbers_naming(lines: list[str]) -> list[str]:
    """The welcome numbers one of whose profiles names one of `lines` (agent or rung line):
    what an edit of those lines' queue settings touches (SCALE-2)."""
    if not lines:
        return []
    query = (WelcomeLine.select(Service.number).distinct()
             .join(WelcomeProfile, on=WelcomeLine.profile == WelcomeProfile.id)
             .join(Service, on=WelcomeProfile.service == Service.id)
             .where(WelcomeLine.line.in_(Service.select(Service.id).where(
                 Service.number.in_(lines)))))
    return sorted(number for (number,) in query.tuples())


def build_document(shard: int = 0, numbers: list[str] | None = None) -> dict:
    """The whole document for `shard` (only its accounts' numbers and lines, SCALE-1); the
    engine validates it before use. With `numbers` (a scoped `config.reload`, SCALE-2),
    only those welcome numbers' sections (one without a section is left out: gone) and
    the lines they name: it costs what they cost, whatever the size of the shard."""
    if db.obj is None:  # the engine process: point the database proxy at DATABASE_URL
        init_db(load().DATABASE_URL)
    with db.connection_context():
        sections: dict[str, dict] = {}
        for builder in NUMBER_BUILDERS:
            sections.update(builder(shard, numbers))
        lines = lines_section(shard, None if numbers is None else named_lines(sections))
        return {"timezone": DOCUMENT_TIMEZONE, "lines": lines, "numbers": sections}

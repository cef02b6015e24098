"""The engine's configuration document, built from the database (PROTOCOL.md).

This is "the one function" the engine calls when started without `--config`
and again on every `config.reload`. Same shape as the JSON file: `lines` from
the fixed lines' queue settings (LINE-3), `numbers` from the welcome numbers'
routing profiles and time rules (WN-1..4) as their tables provide them.
"""

from __future__ import annotations

from webapp.db import db
from webapp.models import Account, Service

DOCUMENT_TIMEZONE = "Europe/Paris"


def shard_accounts(shard: int):
    """The ids of the accounts on `shard` (SCALE-1), as a subquery."""
    return Account.select(Account.id).where(Account.shard == shard)


# Areas that own welcome-number routing register a builder here:
# fn(shard) -> {number: {"entry": ..., "rules": [...], "profiles": {...}}}
def _welcome_numbers(shard: int) -> dict[str, dict]:
    from webapp.services.welcome import numbers_section  # issue 6: WN-1..4 tables

    return numbers_section(shard)


NUMBER_BUILDERS: list = [_welcome_numbers]


def lines_section(shard: int = 0) -> dict[str, dict]:
    lines: dict[str, dict] = {}
    query = Service.select(Service.number, Service.accept_queue_calls, Service.backup_number).where(
        (Service.kind == "fixed") & Service.account.in_(shard_accounts(shard))
    )
    for number, accept, backup in query.tuples():
        entry: dict = {"accept_queue_calls": bool(accept)}
        if backup:
            entry["backup"] = backup
        lines[number] = entry
    return lines


def build_document(shard: int = 0) -> dict:
    """The whole document for `shard` (only its accounts' numbers and lines, SCALE-1); the
    engine validates it before use."""
    if db.obj is None:
        from webapp.settings import load
        from worker.bootstrap import ensure_db

        ensure_db(load())
    with db.connection_context():
        numbers: dict[str, dict] = {}
        for builder in NUMBER_BUILDERS:
            numbers.update(builder(shard))
        return {"timezone": DOCUMENT_TIMEZONE, "lines": lines_section(shard),
                "numbers": numbers}

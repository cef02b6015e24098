"""Where lines come into existence: every Service is created through `create_service`.

A fixed line is born with its default forwarding profile (LINE-1) in the same
transaction, so that no page has to create it on a GET (docs/architecture.md §5). Lines created
otherwise (older databases, direct inserts) are backfilled by `flask db-upgrade` and the
demo loader (`forwarding.ensure_account_profiles`); until then the line page shows the
default profile virtually and the first change stores it.
"""

from __future__ import annotations

from webapp.db import db
from webapp.models import Service
from webapp.services.forwarding import create_default_profile


def create_service(**fields) -> Service:
    """`Service.create(**fields)`, plus the default profile when it is a fixed line."""
    with db.atomic():
        service = Service.create(**fields)
        if service.kind == "fixed":
            create_default_profile(service)
    return service

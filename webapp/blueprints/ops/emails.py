"""E-mails that failed for good (MAIL-2), for staff to follow up."""

from __future__ import annotations

from webapp.blueprints.ops import staff_route
from webapp.rendering import render
from webapp.services import backoffice


@staff_route("/courriels")
def emails():
    return render("ops/emails.html", rows=backoffice.failed_emails())

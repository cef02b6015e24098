"""The dashboard's "Évènements" block as a self-refreshing HTMX partial (EVT-1).

Polled every 60 s and after the user acts (`cm-events` trigger). The answer
carries a weak ETag of what it shows; an unchanged block is a bodiless 304,
which the browser's cache turns back into the previous answer for htmx.
"""

from __future__ import annotations

from flask import Blueprint, make_response, request
from flask_babel import get_locale
from flask_login import current_user

from webapp.rendering import render
from webapp.security import background, current_access
from webapp.services import billing, events

bp = Blueprint("events", __name__)


def block_context() -> dict:
    access = current_access()
    # the signed-in user's account row, already loaded for the layout (one query less)
    if current_user.account_id == access.account_id:
        today = billing.today_for(current_user.account)
    else:
        today = billing.today_in(access.account_id)
    return {"event_entries": events.summary(access, today), "today": today}


@bp.route("/evenements")
@background  # polled every 60 s: never extends the idle timeout
def block():
    context = block_context()
    etag = events.fingerprint(context["event_entries"], str(get_locale()), context["today"])
    if request.if_none_match.contains_weak(etag):
        response = make_response("", 304)
    else:
        response = render("events/block.html", **context)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("HX-Request")
    return response

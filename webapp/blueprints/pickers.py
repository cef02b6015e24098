"""Searchable pickers (SCALE-4): a site field never lists a thousand sites.

`GET /choisir/sites` answers the picker's HTMX active search with its results (radio
buttons, or checkboxes for a multiple choice such as a role's scope), and without
JavaScript it is a plain search page whose results link back to the form with the
chosen site preselected (`?<field>=<id>`). Only sites in the user's scope are listed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, request

from webapp.blueprints.lines import contact_emails as find
from webapp.rendering import render
from webapp.security import current_access, safe_next
from webapp.services import sites as sites_service

bp = Blueprint("pickers", __name__, url_prefix="/choisir")


def state(name: str, selected=(), empty: str | None = None, multi: bool = False):
    """Everything a site field renders: its SitePicker, from the request's search text
    (`<name>__q`) and the chosen ids (the form's, or `?<name>=` from the search page)."""
    if isinstance(selected, list | tuple | set | frozenset):
        chosen = [str(s) for s in selected]
    else:
        chosen = [] if selected in (None, "") else [str(selected)]
    if request.method == "GET" and request.args.getlist(name) and request.blueprint != bp.name:
        extra = [v for v in request.args.getlist(name) if v]
        chosen = (chosen + [v for v in extra if v not in chosen]) if multi else extra[-1:]
    q = request.values.get(f"{name}__q", "").strip()[:60]
    p = sites_service.picker(current_access(), chosen, q)
    return {"p": p, "name": name, "empty": empty, "multi": multi, "chosen": set(chosen)}


def _back(next_url: str, name: str, value: int) -> str:
    parts = urlsplit(next_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in (name, f"{name}__q")] + [(name, str(value))]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@bp.route("/sites")
def sites():
    name = request.args.get("name", "site")[:40]
    multi = bool(request.args.get("multi"))
    empty = request.args.get("empty") or None
    ctx = state(name, request.args.getlist(name), empty, multi)
    if request.headers.get("HX-Request"):
        return render("pickers/_sites.html", **ctx)
    next_url = safe_next(request.args.get("next"), "/")
    q = ctx["p"].q
    matches = sites_service.search_sites(current_access(), q, limit=50)
    return render("pickers/sites.html", name=name, q=q, next_url=next_url, multi=multi,
                  empty=empty, matches=[(i, path, _back(next_url, name, i))
                                        for i, path in matches])


@bp.route("/contacts/emails")
def contact_emails():
    """`<option>`s of the contacts' e-mails matching what is typed (`q`, or the field's own
    value `notify_email` that htmx sends): a datalist's active search."""
    text = request.args.get("q") or request.args.get("notify_email", "")
    return render("pickers/_emails.html", emails=find(text[:100]))

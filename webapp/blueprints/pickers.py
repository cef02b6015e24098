"""Searchable pickers (SCALE-4): a site, line or order field never lists a thousand of them.

`GET /choisir/sites` (and `/choisir/lignes`, the back office's orders of an account) answers
the picker's HTMX active search with its results (radio buttons, or checkboxes for a
multiple choice such as a role's scope), and without JavaScript it is a plain search page
whose results link back to the form with the chosen item preselected (`?<field>=<id>`).
Only what is in the user's scope is listed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, request

from webapp.blueprints.lines import contact_emails as find
from webapp.rendering import render
from webapp.security import current_access, safe_next
from webapp.services import billing, line_picker
from webapp.services import sites as sites_service
from webapp.services.access import Access

bp = Blueprint("pickers", __name__, url_prefix="/choisir")


def state(name: str, selected=(), empty: str | None = None, multi: bool = False,
          kind: str = "site", field_id: str | None = None, access: Access | None = None,
          search: tuple[str, dict] = ("", {})):
    """Everything a site (or line) field renders: its picker, from the request's search
    text (`<name>__q`) and the chosen ids (the form's, or `?<name>=` from the search page).
    `access`: whose sites (default: the signed-in user's scope); `search`: the endpoint
    (and its arguments) of the field's search (default: /choisir/sites or /lignes)."""
    if isinstance(selected, list | tuple | set | frozenset):
        chosen = [str(s) for s in selected]
    else:
        chosen = [] if selected in (None, "") else [str(selected)]
    if request.method == "GET" and request.args.getlist(name) and request.blueprint != bp.name:
        extra = [v for v in request.args.getlist(name) if v]
        chosen = (chosen + [v for v in extra if v not in chosen]) if multi else extra[-1:]
    q = request.values.get(f"{name}__q", "").strip()[:60]
    endpoint, args = search if search[0] else (f"{bp.name}.{kind}s", {})
    p = KINDS[kind][0](access or current_access(), chosen, q, **_filters(kind, args))
    return {"p": p, "name": name, "empty": empty, "multi": multi, "chosen": set(chosen),
            "kind": kind, "field_id": field_id or name, "endpoint": endpoint, "args": args}


KINDS = {"site": (sites_service.picker, sites_service.search_sites),
         "line": (line_picker.picker, line_picker.search_lines),
         "order": (billing.order_picker, billing.search_orders)}


def _ids(raw) -> tuple[int, ...]:
    """"12,15" (or 12) → (12, 15): the ids of lines a field must not offer."""
    return tuple(int(x) for x in str(raw or "").split(",") if x.strip().isdigit())


def _filters(kind: str, args: dict) -> dict:
    """A line field's search arguments, `types` ("fixed,mobile") and `sauf` (the lines not
    to offer: the line being edited, those already in the queue), as the picker's filters;
    the other kinds have none."""
    if kind != "line":
        return {}
    return {"kinds": line_picker.kinds_of(str(args.get("types", ""))),
            "exclude": _ids(args.get("sauf"))}


def line_state(name: str, selected=None, empty: str | None = None,
               field_id: str | None = None, types: str | None = None,
               exclude: int | str | None = None):
    """A line field: fixed lines, or the `types` named ("fixed,mobile"), less the lines of
    `exclude` (an id, or ids joined by commas)."""
    sauf = ",".join(str(i) for i in _ids(exclude))
    args = {k: v for k, v in (("types", types), ("sauf", sauf)) if v}
    return state(name, selected, empty, kind="line", field_id=field_id,
                 search=("pickers.lines", args) if args else ("", {}))


def account_site_state(account_id: int, name: str, selected=None, empty: str | None = None):
    """A site field of a customer account in the back office (every site of it)."""
    return state(name, selected, empty, access=whole_account(account_id),
                 search=("ops.account_sites", {"account_id": account_id}))


def account_order_state(account_id: int, name: str, selected=None, empty: str | None = None):
    """An invoice's order field in the back office (the orders of that account)."""
    return state(name, selected, empty, kind="order", access=whole_account(account_id),
                 search=("ops.account_orders", {"account_id": account_id}))


def whole_account(account_id: int) -> Access:
    return Access(account_id, frozenset(), None)


def _back(next_url: str, name: str, value: int) -> str:
    parts = urlsplit(next_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in (name, f"{name}__q")] + [(name, str(value))]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@bp.route("/sites")
def sites():
    return search_page("site")


@bp.route("/lignes")
def lines():
    args = {k: request.args[k][:20] for k in ("types", "sauf") if request.args.get(k)}
    return search_page("line", search=("pickers.lines", args) if args else ("", {}))


def search_page(kind: str, access: Access | None = None, search: tuple[str, dict] = ("", {}),
                layout: str = "layout.html"):
    """The HTMX active search's results, or (without JS) the plain search page."""
    name = request.args.get("name", kind)[:40]
    multi = bool(request.args.get("multi")) and kind == "site"
    empty = request.args.get("empty") or None
    ctx = state(name, request.args.getlist(name), empty, multi, kind, access=access,
                search=search)
    if request.headers.get("HX-Request"):
        return render("pickers/_choices.html", **ctx)
    next_url = safe_next(request.args.get("next"), "/")
    q = ctx["p"].q
    find = KINDS[kind][1]
    matches = find(access or current_access(), q, limit=50, **_filters(kind, ctx["args"]))
    return render("pickers/page.html", **ctx, q=q, next_url=next_url, layout=layout,
                  matches=[(i, path, _back(next_url, name, i)) for i, path in matches])


@bp.route("/contacts/emails")
def contact_emails():
    """`<option>`s of the contacts' e-mails matching what is typed (`q`, or the field's own
    value `notify_email` that htmx sends): a datalist's active search."""
    text = request.args.get("q") or request.args.get("notify_email", "")
    return render("pickers/_emails.html", emails=find(text[:100]))

"""Searchable line fields (SCALE-4): a form that names one of the account's fixed lines
(an equipment's line, the line a switchboard call is picked up on or transferred to, a
line added to a queue) never lists thousands of lines.

Same shape as the site field (`sites.SitePicker`): up to `sites.PICKER_SELECT_MAX` lines
in scope, every line as a plain <select>; beyond, the chosen line plus the matches of a
search by holder, label, number (any format) or extension. Only lines of the account
inside the user's site scope are offered — fixed lines, or the `kinds` a field names (a
forward goes to a fixed or mobile line), less the lines named in `exclude` (the line
being edited, the lines already in a queue); the
views still check what is posted.
"""

from __future__ import annotations

import re

from peewee import JOIN

from webapp.models import Contact, Service
from webapp.services import phones
from webapp.services import search as contact_search
from webapp.services.access import Access
from webapp.services.sites import PICKER_RESULTS, PICKER_SELECT_MAX, SitePicker


def number_condition(fragment: str, digits: str):
    """Lines whose number contains a typed number fragment (any format), or whose
    extension is what was typed: "01 00" → +33100…, "00 01 09" → …000109, "109" → poste 109."""
    forms = {fragment}
    if fragment.startswith("0") and not fragment.startswith("00"):
        forms.add("+33" + fragment[1:])  # a national prefix: E.164 starts that way
    cond = Service.extension == digits
    for form in forms:
        cond = cond | Service.number.contains(form)
    return cond


LINE_KINDS = ("fixed", "mobile")  # what a line field may offer


def kinds_of(raw: str) -> tuple[str, ...]:
    """"fixed,mobile" (a search's `types`) → the known kinds named; fixed lines otherwise."""
    named = tuple(k for k in LINE_KINDS if k in (raw or "").split(","))
    return named or ("fixed",)


def _lines(access: Access, kinds: tuple[str, ...] = ("fixed",), exclude: tuple[int, ...] = ()):
    query = (Service.select(Service.id, Service.number, Service.label, Service.extension,
                            Contact.first_name, Contact.last_name)
             .join(Contact, JOIN.LEFT_OUTER, on=(Service.holder == Contact.id), attr="holder_row")
             .where((Service.account == access.account_id) & Service.kind.in_(list(kinds))))
    if access.site_ids is not None:
        query = query.where(Service.site.in_(list(access.site_ids)))
    if exclude:
        query = query.where(Service.id.not_in(list(exclude)))
    return query


def label(line: Service) -> str:
    """"Claire Martin — 01 00 00 01 07" (the holder, else the line's label)."""
    holder = getattr(line, "holder_row", None)
    known = holder is not None and (holder.first_name or holder.last_name)
    name = holder.full_name if known else (line.label or "")
    number = phones.display(line.number)
    return f"{name} — {number}" if name else number


def search_lines(access: Access, q: str, limit: int = PICKER_RESULTS,
                 kinds: tuple[str, ...] = ("fixed",), exclude: tuple[int, ...] = ()
                 ) -> list[tuple[int, str]]:
    q = " ".join((q or "").split())[:60]
    cond = contact_search.condition(q, Contact.search) if q else None
    label_cond = Service.label.contains(q)  # "%" and "_" typed are literal (escaped)
    cond = label_cond if cond is None else cond | label_cond
    fragment = phones.search_fragment(q)
    if fragment:
        cond = cond | number_condition(fragment, re.sub(r"\D", "", q))
    rows = _lines(access, kinds, exclude).where(cond).order_by(Service.number).limit(limit)
    return [(line.id, label(line)) for line in rows]


def picker(access: Access, selected=(), q: str = "", kinds: tuple[str, ...] = ("fixed",),
           exclude: tuple[int, ...] = ()) -> SitePicker:
    """The line field for `access` (a SitePicker of lines: depth 0, labels as paths)."""
    lines = _lines(access, kinds, exclude)
    if lines.count() <= PICKER_SELECT_MAX:
        return SitePicker(True, [(li.id, label(li), 0) for li in lines.order_by(Service.number)],
                          q=q)
    chosen = [int(s) for s in selected if str(s).isdigit()]
    picked = [(li.id, label(li)) for li in lines.where(Service.id.in_(chosen or [0]))]
    ids = {i for i, _l in picked}
    matches = [m for m in search_lines(access, q, kinds=kinds, exclude=exclude)
               if m[0] not in ids] if q else []
    return SitePicker(False, selected=picked, matches=matches, q=q)

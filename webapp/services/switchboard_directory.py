"""The directory on the switchboard (SWB-4, SWB-5, SEC-8): who is calling, who to transfer
to, and where a call may be sent. No Flask here.

Everything is read within the viewer's reach: their account, and inside it their site
scope (ROLE-3) — the contacts in scope and the holders of the lines in scope. A caller
whose number is only known out of scope shows as a formatted number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.i18n import _
from webapp.models import Account, Contact, Service
from webapp.services import phones
from webapp.services import search as contact_search
from webapp.services.access import Access, contacts_in_scope
from webapp.services.errors import FormError
from webapp.services.line_picker import number_condition

MAX_RESULTS = 8


@dataclass
class Person:
    name: str
    company: str = ""


def scoped_lines(account_id: int, site_ids: frozenset[int] | None,
                 kinds: tuple[str, ...] = ("fixed", "mobile")):
    """The account's lines of `kinds` in the site scope (None: every site)."""
    query = Service.select().where((Service.account == account_id) & Service.kind.in_(kinds))
    if site_ids is not None:
        query = query.where(Service.site.in_(list(site_ids) or [0]))
    return query


def scoped_directory(account_id: int, site_ids: frozenset[int] | None):
    """The account's contacts in the site scope (no site = the default site)."""
    return contacts_in_scope(Access(account_id, frozenset(), site_ids))


class Directory:
    """Callers identified from the viewer's directory (SWB-5), cached per stream."""

    def __init__(self, account_id: int, site_ids: frozenset[int] | None = None) -> None:
        self.account_id, self.site_ids = account_id, site_ids
        self.cache: dict[str, Person | None] = {}

    def who(self, number: str) -> Person | None:
        if not number or number == "anonymous":
            return None
        if number not in self.cache:
            self.cache[number] = identify(self.account_id, number, self.site_ids)
        return self.cache[number]


def identify(account_id: int, number: str,
             site_ids: frozenset[int] | None = None) -> Person | None:
    """The contact in scope with this number, else the holder of the line in scope."""
    c = scoped_directory(account_id, site_ids).where(
        (Contact.phone_work == number) | (Contact.phone_mobile == number)
        | (Contact.phone_home == number)).first()
    if c is None:
        line = scoped_lines(account_id, site_ids, ("fixed", "mobile", "welcome")).where(
            Service.number == number).first()
        if line is None or not line.holder_id:
            return None
        c = line.holder
    return Person(c.full_name, c.company or "")


def caller_label(value: str, directory: Directory | None) -> tuple[str, str]:
    """(who, detail): the directory name and company when known, else the number."""
    if value in ("", "anonymous"):
        return _("Numéro masqué"), ""
    person = directory.who(value) if directory else None
    if person:
        return person.name, " · ".join(x for x in (person.company, phones.display(value)) if x)
    return phones.display(value), ""


def directory_results(account_id: int, site_ids: frozenset[int] | None, q: str) -> list[dict]:
    """SWB-5: contacts in scope by name, company or number, case- and accent-folded and in
    any format (the contacts' search column, UI-2), or holding a line in scope with that
    number or extension; each with every number: the lines in scope they hold (with their
    extension), work and mobile."""
    q = " ".join((q or "").split())
    if len(q) < 2:
        return []
    cond = contact_search.condition(q, Contact.search)
    fragment = phones.search_fragment(q)
    lines = scoped_lines(account_id, site_ids)
    if fragment:
        digits = re.sub(r"\D", "", q)
        holders = lines.select(Service.holder).where(
            number_condition(fragment, digits) & Service.holder.is_null(False))
        cond = Contact.id.in_(holders) if cond is None else cond | Contact.id.in_(holders)
    if cond is None:
        return []
    found = list(scoped_directory(account_id, site_ids).where(cond)
                 .order_by(Contact.last_name, Contact.first_name).limit(MAX_RESULTS))
    held: dict[int, list[Service]] = {}
    for s in lines.where(Service.holder.in_([c.id for c in found] or [0])).order_by(
            Service.number):
        held.setdefault(s.holder_id, []).append(s)
    out = []
    for c in found:
        numbers: list[tuple[str, str]] = []
        for s in held.get(c.id, []):
            label = _("Ligne fixe") if s.kind == "fixed" else _("Mobile")
            if s.extension:
                label += " · " + _("poste %(e)s", e=s.extension)
            numbers.append((s.number, label))
        for value, label in ((c.phone_work, _("Travail")), (c.phone_mobile, _("Mobile"))):
            if value and value not in [n for n, _l in numbers]:
                numbers.append((value, label))
        out.append({"name": c.full_name, "company": c.company or "", "numbers": numbers})
    return out


# --- SEC-8: where a supervisor may send a call ---------------------------------------

# French numbers: 01-05 geographic, 06/07 mobile, 09 internet boxes, 080x free of charge.
# 081x/082x (shared cost) and 089x (premium rate) are refused, as are short numbers.
NATIONAL_OK = re.compile(r"^\+33(?:[1-79]\d{8}|80\d{7})$")


class TransferRefused(FormError):
    """SEC-8: a transfer to a number the account may not send calls to."""


def check_transfer(account_id: int, number: str) -> None:
    """Whether a call may be transferred to `number` (E.164); TransferRefused says why
    not. Allowed: the account's own lines and numbers, its directory's numbers, French
    national numbers outside the premium and shared-cost ranges — anything when the
    account allows more (`Account.transfer_anywhere`, `flask transfer-policy`)."""
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise TransferRefused(_("Numéro refusé."))
    if account.transfer_anywhere or NATIONAL_OK.match(number):
        return
    if Service.select().where((Service.account == account_id)
                              & (Service.number == number)).exists():
        return
    if Contact.select().where((Contact.account == account_id) & (
            (Contact.phone_work == number) | (Contact.phone_mobile == number)
            | (Contact.phone_home == number))).exists():
        return
    raise TransferRefused(_("Transfert refusé : seuls les numéros de votre compte et de votre "
                            "annuaire, et les numéros français hors numéros surtaxés (081, "
                            "082, 089) ou courts, sont autorisés. Votre administrateur peut "
                            "demander à élargir cette règle."))

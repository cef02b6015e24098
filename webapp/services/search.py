"""Contact search (UI-2): one folded, indexed column per contact, one way to query it.

`Contact.search` holds the contact's names, e-mail and company case- and accent-folded
("helene dupont …"), followed by each phone number in E.164 and national digits. It is
kept by `Contact.save()` and, for bulk writes (`update()`, `insert_many()`), by `reindex()`
or `document()`. Queries fold what is typed the same way, so "HÉLÈNE" finds Hélène and
"+33 1 23 45 67 89", "01 23 45 67 89" or "0123456789" find the same contact.
"""

from __future__ import annotations

import unicodedata

from webapp.services import phones

TEXT_FIELDS = ("first_name", "last_name", "email", "company")
PHONE_FIELDS = ("phone_work", "phone_mobile", "phone_home")
MAX_LENGTH = 600
MODEL = None  # webapp.models.Contact, registered by webapp.models.core


def fold(text: str | None) -> str:
    """Lower case, no accents, single spaces: "  HÉLÈNE  Dupré" → "helene dupre"."""
    plain = unicodedata.normalize("NFKD", (text or "").casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss").split())


def document(values) -> str:
    """The search column of a contact (a model instance or a dict of its columns)."""
    get = values.get if isinstance(values, dict) else (lambda k: getattr(values, k, None))
    words = [fold(get(k)) for k in TEXT_FIELDS]
    words += [phones.search_tokens(get(k)) for k in PHONE_FIELDS]
    return " ".join(w for w in words if w)[:MAX_LENGTH]


def reindex(ids) -> None:
    """Recompute the search column of contacts `ids` after a bulk `update()`."""
    Contact = MODEL  # noqa: N806 — set by webapp.models.core (which imports this module)
    ids = list(ids)
    for start in range(0, len(ids), 500):
        for contact in Contact.select().where(Contact.id.in_(ids[start:start + 500])):
            text = document(contact)
            if text != contact.search:
                Contact.update(search=text).where(Contact.id == contact.id).execute()


def condition(text: str, column, limit: int = 6):
    """A peewee expression: contacts whose column contains everything typed, or None.

    A query that reads as one phone number (spaces and all) is one term; otherwise each
    word is a term, matched folded, or as a number fragment when it looks like one."""
    def contains(term: str):
        return column.contains(term)  # "%" and "_" typed are literal (escaped), not wildcards

    whole = phones.search_fragment(text)
    if whole:
        return contains(whole)
    cond = None
    for word in (text or "").split()[:limit]:
        term = fold(word)
        fragment = phones.search_fragment(word)
        part = contains(term) if not fragment or fragment == term else (
            contains(term) | contains(fragment))
        cond = part if cond is None else cond & part
    return cond

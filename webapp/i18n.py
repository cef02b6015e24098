"""Marking strings for translation where they are defined, translating where shown.

Modules that must not import Flask (models, services) mark their user-facing
strings here; the French text is the msgid (pybabel extracts `_`, `ngettext`
and `N_`, see babel.cfg):

- `N_("…")` returns its argument unchanged (labels of menus, permissions,
  statuses); templates translate them at render time with `_(label)`.
- `_("Le numéro %(number)s est déjà utilisé.", number=n)` returns a `Text`: the
  French sentence (a `str`, so logs, tests and e-mails read it as is) that also
  keeps its msgid and values, so the view translates it into the reader's
  language (`webapp.translate.translate`; templates do it for every `{{ }}`).
- `ngettext("%(num)d contact créé", "%(num)d contacts créés", n)` the same with
  a plural form.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext convention)
    return message


class Text(str):
    """A user-facing message: the French rendering of `msgid % values`, plus what the
    view needs to render it in another language."""

    __slots__ = ("msgid", "plural", "num", "values")

    msgid: str
    plural: str | None
    num: int | None
    values: dict

    def __new__(cls, msgid: str, values: dict | None = None, *, plural: str | None = None,
                num: int | None = None) -> Text:
        values = dict(values or {})
        source = plural if plural is not None and num is not None and num > 1 else msgid
        self = super().__new__(cls, source % values if values else source)
        self.msgid, self.plural, self.num, self.values = msgid, plural, num, values
        return self

    def __reduce__(self):  # pickled with its msgid (RQ jobs, sessions)
        return (_rebuild, (self.msgid, self.values, self.plural, self.num))


def _rebuild(msgid, values, plural, num) -> Text:
    return Text(msgid, values, plural=plural, num=num)


def _(msgid: str, **values) -> Text:
    return Text(msgid, values)


def ngettext(singular: str, plural: str, num: int, **values) -> Text:
    values.setdefault("num", num)
    return Text(singular, values, plural=plural, num=num)

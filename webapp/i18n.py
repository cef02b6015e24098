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

Dates, amounts and durations inside a message stay values (`datetime.date`,
`Money(cents)`, `Duration(seconds)`): the French rendering formats them with Babel in
French, the view in the reader's language (UI-5). Never format a date with strftime, an
amount with "€" or a duration with "min"/"s" by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal
from babel.units import format_unit


def N_(message: str) -> str:  # noqa: N802 (gettext convention)
    return message


class Money(int):
    """An amount in euro cents, shown by Babel in the reader's language ("1 234,50 €",
    "€1,234.50")."""

    __slots__ = ()


def money(cents: int, locale: str = "fr") -> str:
    return format_currency(Decimal(int(cents)) / 100, "EUR", locale=locale)


class Duration(int):
    """A duration in whole seconds, shown by Babel's CLDR units in the reader's language
    ("1 h 5 min", "2 min 5 s", "45 s"; "2 min 5 sec" in English)."""

    __slots__ = ()

    @classmethod
    def of_ms(cls, ms: int | float) -> Duration:
        return cls(round(ms / 1000))


def duration(seconds: int, locale: str = "fr") -> str:
    """Hours and minutes from an hour on, minutes and seconds below: each part a CLDR
    unit, joined by the language's unit list pattern."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        parts = [(hours, "duration-hour"), (minutes, "duration-minute")]
    elif minutes:
        parts = [(minutes, "duration-minute"), (secs, "duration-second")]
    else:
        parts = [(secs, "duration-second")]
    return format_list([format_unit(n, unit, length="short", locale=locale)
                        for n, unit in parts if n or len(parts) == 1],
                       style="unit-narrow", locale=locale)


@functools.cache
def duration_patterns(locale: str = "fr") -> dict:
    """The same CLDR patterns for a page's live timers (switchboard waits, rest countdowns):
    per unit its "one"/"other" form with "{0}" for the number, and the list pattern joining
    two parts, so that the browser writes "1 min 5 s" / "1 min 5 sec" like `duration`.
    Every page carries them: computed once per language (the dict is shared, read only)."""
    def pattern(n: int, unit: str) -> str:
        return format_unit(n, unit, length="short", locale=locale).replace(str(n), "{0}", 1)

    units = {key: {"one": pattern(1, unit), "other": pattern(7, unit)}
             for key, unit in (("h", "duration-hour"), ("min", "duration-minute"),
                               ("s", "duration-second"))}
    return {**units, "list": format_list(["{0}", "{1}"], style="unit-narrow", locale=locale)}


def shown(value, locale: str = "fr", tzinfo=None):
    """A message value as `locale` reads it: amounts and dates through Babel, the rest
    unchanged. `tzinfo`: the zone a datetime is shown in (UTC datetimes are stored)."""
    if isinstance(value, Money):
        return money(value, locale)
    if isinstance(value, Duration):
        return duration(value, locale)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return format_datetime(value, "short", tzinfo=tzinfo, locale=locale)
    if isinstance(value, dt.date):
        return format_date(value, "short", locale=locale)
    if isinstance(value, float):  # one decimal: "1,9 Mo", "50,0 %"
        return format_decimal(value, format="#,##0.0", locale=locale)
    return value


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
        french = {key: shown(value) for key, value in values.items()}
        self = super().__new__(cls, source % french if values else source)
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

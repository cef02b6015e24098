"""The view side of `webapp.i18n.Text`: a service's French message in the reader's language.

`app.jinja_env.finalize` runs `translate` on every `{{ }}` value, so a template showing
`errors.number` shows it in English to an English reader; views call it for what leaves
through flash messages, headers or JSON.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext, ngettext

from webapp.i18n import Money, Text, money


def shown(value):
    """A value inside a message, in the reader's language and time zone (UI-5)."""
    if isinstance(value, Text):
        return translate(value)
    if isinstance(value, Money):
        return money(value, str(get_locale() or "fr"))
    if isinstance(value, dt.datetime):
        return format_datetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC), "short")
    if isinstance(value, dt.date):
        return format_date(value, "short")
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.0")
    return value


def translate(value):
    if not isinstance(value, Text):
        return value
    values = {key: shown(item) for key, item in value.values.items()}
    if value.plural is not None:
        values.pop("num", None)  # ngettext sets it from its third argument
        return ngettext(value.msgid, value.plural, value.num, **values)
    return gettext(value.msgid, **values)


def translate_all(errors: dict) -> dict:
    return {key: translate(message) for key, message in errors.items()}

"""The view side of `webapp.i18n.Text`: a service's French message in the reader's language.

`app.jinja_env.finalize` runs `translate` on every `{{ }}` value, so a template showing
`errors.number` shows it in English to an English reader; views call it for what leaves
through flash messages, headers or JSON.
"""

from __future__ import annotations

from flask_babel import get_locale, get_timezone, gettext, ngettext

from webapp import i18n
from webapp.i18n import Duration, Text


def shown(value):
    """A value inside a message, in the reader's language and time zone (UI-5): the
    request's locale and zone given to `i18n.shown`, which e-mails use too."""
    if isinstance(value, Text):
        return translate(value)
    return i18n.shown(value, str(get_locale() or "fr"), get_timezone())


def translate(value):
    if isinstance(value, Duration):  # shown by itself: `{{ seconds(a.talk_ms) }}`
        return shown(value)
    if not isinstance(value, Text):
        return value
    values = {key: shown(item) for key, item in value.values.items()}
    if value.plural is not None:
        values.pop("num", None)  # ngettext sets it from its third argument
        return ngettext(value.msgid, value.plural, value.num, **values)
    return gettext(value.msgid, **values)


def translate_all(errors: dict) -> dict:
    return {key: translate(message) for key, message in errors.items()}

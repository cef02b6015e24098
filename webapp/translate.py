"""The view side of `webapp.i18n.Text`: a service's French message in the reader's language.

`app.jinja_env.finalize` runs `translate` on every `{{ }}` value, so a template showing
`errors.number` shows it in English to an English reader; views call it for what leaves
through flash messages, headers or JSON.
"""

from __future__ import annotations

from flask_babel import gettext, ngettext

from webapp.i18n import Text


def translate(value):
    if not isinstance(value, Text):
        return value
    values = {key: translate(item) for key, item in value.values.items()}
    if value.plural is not None:
        values.pop("num", None)  # ngettext sets it from its third argument
        return ngettext(value.msgid, value.plural, value.num, **values)
    return gettext(value.msgid, **values)


def translate_all(errors: dict) -> dict:
    return {key: translate(message) for key, message in errors.items()}

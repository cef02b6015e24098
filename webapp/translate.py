"""The view side of `webapp.i18n.Text`: a service's French message in the reader's language.

`app.jinja_env.finalize` runs `translate` on every `{{ }}` value, so a template showing
`errors.number` shows it in English to an English reader; views call it for what leaves
through flash messages, headers or JSON.
"""

from __future__ import annotations

from gettext import NullTranslations

from flask_babel import Babel, Domain, get_locale, get_timezone, gettext, ngettext
from werkzeug.utils import cached_property

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


class SourcePlurals(NullTranslations):
    """The msgids are French and French has no catalogue, so gettext's own answer for a
    plural it has no translation of follows English's rule ("0 appels"). This fallback of
    every catalogue follows the reader's CLDR rule instead: French 0 and 1 singular
    ("0 appel"), English 1 only (UI-5)."""

    def __init__(self, locale) -> None:
        super().__init__()
        self.rule = locale.plural_form

    def ngettext(self, msgid1, msgid2, n):
        count = n if isinstance(n, (int, float)) else int(n)  # a count given as text
        return msgid1 if self.rule(count) == "one" else msgid2


class SourceLanguageDomain(Domain):
    def get_translations(self):
        translations = super().get_translations()
        locale = get_locale()
        if locale is not None and not getattr(translations, "source_plurals", False):
            translations.add_fallback(SourcePlurals(locale))
            translations.source_plurals = True  # the catalogue is cached per locale
        return translations


class ManagerBabel(Babel):
    """Flask-Babel with the source language's plural rule (SourceLanguageDomain)."""

    @cached_property
    def domain_instance(self):
        return SourceLanguageDomain(domain=self.domain)

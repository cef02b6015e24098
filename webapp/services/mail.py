"""Queue e-mails for the RQ worker (MAIL-1): never sent inside a web request.

The message is rendered here, stored in `OutboundEmail`, and the job receives
only its id, so no code or link ever reaches a log line or a job repr. The
worker erases the bodies once the message is sent.

UI-5: an e-mail is written in its recipient's language (`locale_of(user)`: the
language chosen in Préférences, French otherwise). Templates mark their sentences
with `_()` like the pages; the subject is a `webapp.i18n.Text`; dates and amounts
are values (`|date`, `|money`) formatted by Babel in that language. No Flask here:
the worker renders too, so the catalogue is read with `babel.support` directly.
"""

from __future__ import annotations

from functools import lru_cache

from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from rq import Queue, Retry

from webapp.i18n import Money, Text, shown
from webapp.models import OutboundEmail
from webapp.redis_conn import redis_for
from webapp.settings import ROOT

MAIL_QUEUE = "mail"
RETRY_INTERVALS = [10, 30, 120, 600, 1800]  # seconds: backoff of MAIL-2
LOCALES = ("fr", "en")
TRANSLATIONS = ROOT / "webapp" / "translations"


def locale_of(person) -> str:
    """The language a person reads their e-mails in (a staff member: French)."""
    language = getattr(person, "language", None)
    return language if language in LOCALES else "fr"


@lru_cache(maxsize=len(LOCALES))
def _catalogue(locale: str) -> NullTranslations:
    if locale == "fr":
        return NullTranslations()  # the msgids are the French text
    return Translations.load(str(TRANSLATIONS), [locale])


def translate(value, locale: str):
    """A `Text` (or anything) as `locale` reads it: the catalogue's sentence, dates and
    amounts by Babel; the e-mail side of `webapp.translate.translate`."""
    if not isinstance(value, Text):
        return shown(value, locale)
    catalogue = _catalogue(locale)
    values = {key: translate(item, locale) for key, item in value.values.items()}
    if value.plural is not None:
        return catalogue.ngettext(value.msgid, value.plural, value.num) % values
    return catalogue.gettext(value.msgid) % values if values else catalogue.gettext(value.msgid)


@lru_cache(maxsize=len(LOCALES))
def _env(locale: str = "fr") -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "webapp" / "templates" / "emails")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(_catalogue(locale), newstyle=True)
    env.finalize = lambda value: translate(value, locale)
    env.filters["date"] = lambda value: shown(value, locale) if value else ""
    env.filters["money"] = lambda cents: shown(Money(cents), locale)
    env.filters["tr"] = lambda value: translate(value, locale)
    env.globals["locale"] = locale
    return env


def render(template: str, locale: str = "fr", **context) -> tuple[str, str]:
    """(plain text, HTML) for `emails/<template>.txt` and `.html`, in `locale`."""
    env = _env(locale if locale in LOCALES else "fr")
    text = env.get_template(f"{template}.txt").render(**context)
    html = env.get_template(f"{template}.html").render(**context)
    return text, html


def send_later(
    redis_url: str,
    *,
    kind: str,
    to: str,
    subject: str,
    template: str,
    account=None,
    attachment: tuple[str, str] | None = None,
    locale: str = "fr",
    **context,
) -> OutboundEmail:
    """Store the rendered message and enqueue its delivery. Call outside transactions.
    `attachment`: (file name, text) of one CSV file; `locale`: the recipient's language."""
    subject = translate(subject, locale)
    text, html = render(template, locale, subject=subject, **context)
    name, body = attachment or (None, None)
    email = OutboundEmail.create(
        account=account, kind=kind, to_addr=to, subject=subject, text_body=text, html_body=html,
        attachment_name=name, attachment_body=body,
    )
    enqueue(redis_url, email.id)
    return email


def enqueue(redis_url: str, email_id: int) -> None:
    queue = Queue(MAIL_QUEUE, connection=redis_for(redis_url))
    queue.enqueue(
        "worker.tasks.send_email",
        email_id,
        job_id=f"mail-{email_id}",
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        description=f"send_email({email_id})",
    )

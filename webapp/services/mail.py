"""Queue e-mails for the RQ worker (MAIL-1): never sent inside a web request.

The message is rendered here, stored in `OutboundEmail`, and the job receives
only its id, so no code or link ever reaches a log line or a job repr. The
worker erases the bodies once the message is sent.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rq import Queue, Retry

from webapp.models import OutboundEmail
from webapp.redis_conn import redis_for
from webapp.settings import ROOT

MAIL_QUEUE = "mail"
RETRY_INTERVALS = [10, 30, 120, 600, 1800]  # seconds: backoff of MAIL-2


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(ROOT / "webapp" / "templates" / "emails")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context) -> tuple[str, str]:
    """(plain text, HTML) for `emails/<template>.txt` and `.html`."""
    env = _env()
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
    **context,
) -> OutboundEmail:
    """Store the rendered message and enqueue its delivery. Call outside transactions.
    `attachment`: (file name, text) of one CSV file."""
    text, html = render(template, subject=subject, **context)
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

"""Deliver one message through the server named by SMTP_URL.

`smtp://host:port` (plain, e.g. the dev sink), `smtp://user:pass@host:587?starttls=1`,
or `smtps://user:pass@host:465`.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse


def deliver(smtp_url: str, message: EmailMessage, timeout: float = 20.0) -> None:
    url = urlparse(smtp_url)
    host = url.hostname or "127.0.0.1"
    query = parse_qs(url.query)
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=timeout)
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=timeout)
    with client:
        if query.get("starttls", ["0"])[0] in {"1", "true", "yes"}:
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)

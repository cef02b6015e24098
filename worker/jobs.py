"""Enqueue helpers for jobs started from the web (ids and plain values only)."""

from __future__ import annotations

from rq import Queue

from webapp.redis_conn import redis_for
from webapp.services.mail import MAIL_QUEUE


def enqueue_password_link(redis_url: str, email: str, ip: str) -> None:
    Queue(MAIL_QUEUE, connection=redis_for(redis_url)).enqueue(
        "worker.tasks.password_link", email, ip, description="password_link(…)"
    )

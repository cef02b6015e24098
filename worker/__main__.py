"""`python -m worker`: the RQ worker with its scheduler, on queues `mail` then `default`."""

from __future__ import annotations

import logging

from rq import Queue, Worker

from webapp.redis_conn import redis_for
from webapp.services.mail import MAIL_QUEUE
from webapp.settings import load
from worker.bootstrap import ensure_db

QUEUES = [MAIL_QUEUE, "default"]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load()
    ensure_db(settings)
    connection = redis_for(settings.REDIS_URL)
    queues = [Queue(name, connection=connection) for name in QUEUES]
    from worker.notify import schedule_overdue_sweep

    schedule_overdue_sweep(connection)  # the daily "paiement en retard" reminders
    Worker(queues, connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main()

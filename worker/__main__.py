"""`python -m worker`: the RQ worker with its scheduler, on queues `mail` then `default`.

REL-2: a Redis outage is one log line and tries with backoff (RQ's own dequeue loop, and
a new worker when RQ gives up); a job that meets a database outage waits for it (up to
DB_OUTAGE_MAX_S) and runs again; a job that lost a PostgreSQL write conflict is rerun
(webapp.db.retry_conflicts).
"""

from __future__ import annotations

import logging
import time

from rq import Queue, Worker
from rq.job import Job

from engine.outage import REDIS_OUTAGES, Outage, retry, transient
from webapp.db import retry_conflicts
from webapp.redis_conn import redis_for
from webapp.services.mail import MAIL_QUEUE
from webapp.settings import load
from worker.bootstrap import drop_db_connection, ensure_db
from worker.notify import schedule_overdue_sweep
from worker.reports import schedule_weekly_reports

QUEUES = [MAIL_QUEUE, "default"]
DB_OUTAGE_MAX_S = 120  # below RQ's default job timeout (180 s)
log = logging.getLogger("worker")


class OutageTolerantJob(Job):
    def _execute(self):
        run = retry_conflicts(super()._execute)
        outage = Outage(log, f"the database (job {self.id})")
        deadline = time.monotonic() + DB_OUTAGE_MAX_S
        while True:
            try:
                value = run()
            except Exception as exc:
                if (not transient(exc) or isinstance(exc, REDIS_OUTAGES)
                        or time.monotonic() > deadline):
                    raise
                drop_db_connection()
                outage.wait(exc)
                continue
            outage.ok()
            return value


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load()
    ensure_db(settings)
    connection = redis_for(settings.REDIS_URL)
    redis_down = Outage(log, f"Redis at {settings.REDIS_URL}")

    # the daily "paiement en retard" reminders
    retry(lambda: schedule_overdue_sweep(connection) or True, redis_down)

    # the weekly statistics reports (SWB-8)
    retry(lambda: schedule_weekly_reports(connection) or True, redis_down)
    while True:
        queues = [Queue(name, connection=connection) for name in QUEUES]
        worker = Worker(queues, connection=connection, job_class=OutageTolerantJob)
        try:
            worker.work(with_scheduler=True)
        except Exception as exc:  # Redis gone while RQ registers or tears down
            if not transient(exc):
                raise
            redis_down.wait(exc)
            continue
        if worker._stop_requested or worker._shutdown_requested_date is not None:
            return
        # RQ quit on an error outside its dequeue loop (e.g. Redis gone mid-heartbeat)
        retry(lambda: connection.ping(), redis_down)
        time.sleep(1)


if __name__ == "__main__":
    main()

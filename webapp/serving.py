"""gunicorn settings of the `web` process (Procfile; SEC-4).

The web app runs on gunicorn's gevent worker: each request is a greenlet, so the
switchboard's server-sent event streams (one long request per open page) cost a few
kilobytes each instead of a thread, and pages keep answering while hundreds are open
(bench/streams.py, README "Capacity"). gevent patches the standard library (sockets,
sleep, threading.local used by peewee) in each worker; PostgreSQL's driver is made
cooperative below (psycogreen). SQLite calls are not: they are short, but a write
waiting for SQLite's lock (busy_timeout) freezes the whole worker for the wait — the
limit, and why production runs PostgreSQL, is in docs/deployment.md.
"""

from __future__ import annotations


def post_fork(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    try:
        from psycogreen.gevent import patch_psycopg
    except ImportError:  # pragma: no cover - psycogreen is pinned in requirements.txt
        return
    patch_psycopg()

"""gunicorn settings of the `web` process (Procfile; SEC-4).

The web app runs on gunicorn's gevent worker: each request is a greenlet, so the
switchboard's server-sent event streams (one long request per open page) cost a few
kilobytes each instead of a thread, and pages keep answering while hundreds are open
(bench/streams.py, README "Capacity"). gevent patches the standard library (sockets,
sleep, threading.local used by peewee) in each worker; PostgreSQL's driver is made
cooperative below (psycogreen). Argon2 password hashing (~100 ms of CPU in C) runs in the
hub's thread pool, beside the event loop (`post_worker_init`). SQLite calls are not
cooperative: they are short, but a write waiting for SQLite's lock (busy_timeout) freezes
the whole worker for the wait — the limit, and why production runs PostgreSQL, is in
docs/deployment.md.
"""

from __future__ import annotations

from gevent import get_hub

from webapp.services import passwords


def post_fork(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    try:
        from psycogreen.gevent import patch_psycopg
    except ImportError:  # pragma: no cover - psycogreen is pinned in requirements.txt
        return
    patch_psycopg()


def in_thread_pool(fn, *args):
    """`fn(*args)` in a real thread of the current hub's pool; this greenlet waits, the
    others run (argon2 releases the GIL)."""
    return get_hub().threadpool.apply(fn, args)


def post_worker_init(worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """In the worker, once gevent has patched it: hashing off the event loop."""
    passwords.run_hashing_with(in_thread_pool)

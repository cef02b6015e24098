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

import select
import socket
from collections.abc import Callable

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


def client_gone(environ: dict) -> Callable[[], bool] | None:
    """For a long response (server-sent events): a check that the browser has hung up,
    from the connection gunicorn hands over (`gunicorn.socket`); None on servers that do
    not (the development server). The browser sends nothing after its request, so a
    readable socket that peeks no byte is closed."""
    sock = environ.get("gunicorn.socket")
    if sock is None:
        return None

    def gone() -> bool:
        try:
            readable, _w, _x = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset, or already closed
            return True

    return gone

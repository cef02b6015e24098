"""Database handle shared by the web app, the worker and the engine's config builder.

A `DatabaseProxy` lets models be declared before we know whether we talk to a
SQLite file (default) or PostgreSQL (`DATABASE_URL`).

Concurrent writes (REL-1): on SQLite every transaction (`db.atomic()`, whoever opens it)
begins with BEGIN IMMEDIATE — the database's default begin mode here — so it takes the
write lock up front and waits for it (busy_timeout) instead of failing when a read-then-
write cannot upgrade its lock. On PostgreSQL, serialisation failures and deadlocks are
retried a bounded number of times by `retry_conflicts`, which the web app applies to
every unsafe request, the RQ worker to every job and calllog to every batch
(`write_transaction` = a transaction run through it).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from pathlib import Path

from peewee import Database, DatabaseProxy, Node, OperationalError, PeeweeException
from playhouse.db_url import connect

db = DatabaseProxy()

# peewee logs every query *with its parameters* at DEBUG: e-mail bodies carry
# codes and links until sent, so that logger never goes below INFO (MAIL-2).
logging.getLogger("peewee").setLevel(logging.INFO)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 15000,  # ms a writer waits for the lock (longer than any transaction)
    "synchronous": "normal",
}


# A pooled handle keeps its connections between requests: opening one costs more than a
# page's queries (SQLite re-reads the schema, PostgreSQL authenticates). No upper bound
# (as many as requests at once, as before); an idle one is closed after this many seconds.
POOL_STALE_SECONDS = 300


def make_database(url: str, pooled: bool = False) -> Database:
    """`pooled`: `db.close()` hands the connection back for the next request (web app)."""
    pool = {"max_connections": None, "stale_timeout": POOL_STALE_SECONDS} if pooled else {}
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            pool = {}  # every connection to :memory: is another database
        if pool:  # a pooled connection may serve another thread later (one at a time)
            url = "sqlite+pool:///" + path
            pool["check_same_thread"] = False
        return connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", **pool)
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if pool:
        url = url.replace("postgresql://", "postgresql+pool://", 1)
    return connect(url, **pool)


def init_db(url: str, pooled: bool = False) -> Database:
    """Point the proxy at the database named by `url` and return it."""
    database = make_database(url, pooled)
    db.initialize(database)
    return database


def with_own_connection(chunks):
    """Wrap a streamed response body: the generator outlives the request, so it opens
    (and then closes) a database connection of its own if the request's one is gone."""
    opened = db.connect(reuse_if_open=True)
    try:
        yield from chunks
    finally:
        if opened and not db.is_closed():
            db.close()


# --- write conflicts (REL-1) -------------------------------------------------------------

log = logging.getLogger("webapp.db")
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
MAX_ATTEMPTS = 5


def is_conflict(exc: BaseException) -> bool:
    """A PostgreSQL serialisation failure or deadlock: the whole transaction may be rerun."""
    for candidate in (exc, exc.__cause__, exc.__context__, *getattr(exc, "args", ())):
        if getattr(candidate, "pgcode", None) in RETRYABLE_SQLSTATES:
            return True
    return False


def retry_conflicts(fn=None, *, attempts: int = MAX_ATTEMPTS):
    """Decorator: rerun `fn` (from the start) when its transaction lost a conflict, with a
    short jittered backoff, at most `attempts` times. Only at the outermost level: inside
    a transaction the conflict belongs to the caller's transaction, which is re-raised."""
    if fn is None:
        return functools.partial(retry_conflicts, attempts=attempts)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except PeeweeException as exc:
                if attempt == attempts or not is_conflict(exc) or in_transaction():
                    raise
                log.warning("write conflict (%s), attempt %d of %d: retrying",
                            str(exc).splitlines()[0], attempt, attempts)
                time.sleep(random.uniform(0.01, 0.05) * 2 ** attempt)
        raise AssertionError("unreachable")

    return wrapper


def in_transaction() -> bool:
    return db.obj is not None and not db.is_closed() and db.transaction_depth() > 0


def write_transaction(fn):
    """Decorator: `fn` runs in one transaction (SQLite: BEGIN IMMEDIATE), rerun on a
    PostgreSQL conflict."""
    @retry_conflicts
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with db.atomic():
            return fn(*args, **kwargs)

    return wrapper


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or is locked for now (REL-2: wait and retry)."""
    return isinstance(exc, OperationalError) and not is_conflict(exc)


# --- queries built once (SCALE-4) --------------------------------------------------------

class _Slot(Node):
    """Where a `Prepared` query's `index`-th value goes: a parameter of the SQL, converted
    as peewee would convert a plain value there (the field's `db_value`)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def __sql__(self, ctx):
        return ctx.value(_Placeholder(self.index, ctx.state.converter), converter=False)


class _Placeholder:
    __slots__ = ("index", "converter")

    def __init__(self, index: int, converter) -> None:
        self.index, self.converter = index, converter


class Prepared:
    """A query that every request runs with other values (the signed-in user, their
    account): peewee builds its SQL once per database instead of once per call, which
    costs more than SQLite running it. `build` takes one placeholder per value and
    returns the query (`Model.select()…where(Model.x == placeholder)`); only single values
    can be placeholders (not an IN list). `rows(*values)` runs it and returns what
    iterating the query would (model instances, tuples…), `first(*values)` the first or
    None."""

    def __init__(self, build) -> None:
        self._build = build
        self._arity = build.__code__.co_argcount
        self._compiled: tuple | None = None

    def _for(self, database: Database) -> tuple:
        """The query compiled for `database`: only the current one is kept (a process has
        one; the tests open one per test, and keeping each would keep its connections)."""
        compiled = self._compiled
        if compiled is None or compiled[0] is not database:
            query = self._build(*(_Slot(i) for i in range(self._arity)))
            sql, params = database.get_sql_context().parse(query)
            slots = [(position, p) for position, p in enumerate(params)
                     if isinstance(p, _Placeholder)]
            compiled = self._compiled = (database, query, sql, params, slots)
        return compiled

    def execute(self, *values):
        database, query, sql, params, slots = self._for(db.obj)
        if slots:
            params = list(params)
            for position, slot in slots:
                value = values[slot.index]
                params[position] = slot.converter(value) if slot.converter else value
        return query._get_cursor_wrapper(database.execute_sql(sql, params))

    def rows(self, *values) -> list:
        return list(self.execute(*values))

    def first(self, *values):
        """The first row or None (give the query a `.limit(1)`: every row is read)."""
        rows = self.rows(*values)
        return rows[0] if rows else None

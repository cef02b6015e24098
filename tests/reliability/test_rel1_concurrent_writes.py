"""REL-1: web workers (gunicorn as in the Procfile), the RQ worker and calllog writing at
once never fail, and every write answered as successful is there afterwards."""

from __future__ import annotations

import threading
import time

from tests.reliability.stack import Stack, csrf, sign_in
from tests.waiting import wait_until

SESSIONS, WRITES_PER_SESSION, LOG_ENTRIES = 8, 15, 200


def test_rel1_concurrent_writes_never_fail(demo_db, redis_url, redis_conn, smtp, tmp_path):
    from rq import Queue
    from rq.registry import FailedJobRegistry

    from webapp.db import db
    from webapp.models import CallLogEntry, Site, User
    from webapp.services.actor import Actor
    from webapp.services.password_links import send_password_link_later as enqueue_password_link

    url, demo = demo_db
    stack = Stack(tmp_path, url, redis_url)
    try:
        for name in ("web", "worker", "calllog"):
            stack.start(name)
        first = sign_in(stack.url, demo.admin_email, demo.password, smtp)
        sessions = [first] + [sign_in(stack.url, demo.admin_email, demo.password, smtp,
                                      trust_from=first) for _ in range(SESSIONS - 1)]
        with db.connection_context():
            emails = [u.email for u in User.select()]
        answers: list[tuple[str, int | str]] = []

        def web_writer(i: int, s) -> None:
            token = csrf(s.get(stack.url + "/gerer/sites").text)
            for j in range(WRITES_PER_SESSION):
                name = f"Agence R{i:02d}-{j:02d}"
                try:
                    r = s.post(stack.url + "/gerer/sites/nouveau",
                               data={"name": name, "csrf_token": token},
                               allow_redirects=False, timeout=60)
                    answers.append((name, r.status_code))
                except Exception as exc:  # noqa: BLE001 - counted as an error
                    answers.append((name, repr(exc)))

        def log_writer() -> None:
            for k in range(LOG_ENTRIES):
                redis_conn.xadd("acd:{0}:log", {
                    "type": "abandoned", "number": "+33100000001", "call": f"rel1-{k}",
                    "wait_ms": "1000", "ts": str(int(time.time() * 1000))})
                if k % 20 == 0:
                    time.sleep(0.05)  # the writer's pace, not a wait

        threads = [threading.Thread(target=web_writer, args=(i, s))
                   for i, s in enumerate(sessions)] + [threading.Thread(target=log_writer)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for email in emails:  # the worker writes too (password tokens, e-mail rows)
            enqueue_password_link(email, actor=Actor.visitor("127.0.0.1", redis_url))
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - started

        def drained():
            with db.connection_context():
                n = CallLogEntry.select().where(CallLogEntry.call.startswith("rel1-")).count()
            queues_empty = all(Queue(q, connection=redis_conn).count == 0
                               for q in ("mail", "default"))
            return n == LOG_ENTRIES and queues_empty and n
        try:
            wait_until(drained, 90, message="calllog or the worker did not catch up")
        finally:
            with db.connection_context():
                logged = CallLogEntry.select().where(CallLogEntry.call.startswith("rel1-")).count()
                names = {s.name for s in Site.select(Site.name)}
            ok = [name for name, status in answers if status == 303]
            errors = [(name, status) for name, status in answers if status != 303]
            lost = [name for name in ok if name not in names]
            print(f"\nREL-1 {url.split(':')[0]}: {len(answers)} web writes in {elapsed:.1f}s, "
                  f"{len(errors)} errors, {len(lost)} lost; calllog {logged}/{LOG_ENTRIES}")
        assert len(answers) == SESSIONS * WRITES_PER_SESSION
        assert not errors, errors[:5]
        assert not lost
        assert logged == LOG_ENTRIES
        failed = FailedJobRegistry(queue=Queue("mail", connection=redis_conn)).count + \
            FailedJobRegistry(queue=Queue("default", connection=redis_conn)).count
        assert failed == 0
        for name in ("web", "worker", "calllog"):
            assert stack.procs[name].poll() is None, stack.log(name)[-3000:]
            assert "database is locked" not in stack.log(name)
    finally:
        stack.stop()


def test_rel1_postgres_deadlock_is_retried(postgres_demo):
    """Two transactions updating the same two rows in opposite orders deadlock on a real
    PostgreSQL; the one PostgreSQL aborts (40P01) is run again and both succeed."""
    from webapp.db import db, write_transaction
    from webapp.models import Site

    _url, demo = postgres_demo
    with db.connection_context():
        a, b = (Site.create(account=demo.account, name=f"Verrou {n}").id for n in "AB")
    barrier = threading.Barrier(2)
    attempts = {"ab": 0, "ba": 0}
    done, failures = [], []

    def swap(me: str, first: int, second: int) -> None:
        @write_transaction
        def transaction():
            attempts[me] += 1
            Site.update(name=f"{me} premier").where(Site.id == first).execute()
            if attempts[me] == 1:
                barrier.wait(10)  # both hold their first row: the second updates deadlock
            Site.update(name=f"{me} second").where(Site.id == second).execute()

        try:
            with db.connection_context():
                transaction()
            done.append(me)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=swap, args=("ab", a, b)),
               threading.Thread(target=swap, args=("ba", b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures and sorted(done) == ["ab", "ba"]
    assert sorted(attempts.values()) == [1, 2]  # exactly one was rerun

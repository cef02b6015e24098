"""FR-1: ticket, order, invoice and deployment references come from one gap-free sequence
per series, on SQLite and on a real PostgreSQL, with threads creating at the same time:
no creation fails, no number is given twice, none is skipped."""

from __future__ import annotations

import datetime as dt
import threading

THREADS = 6


def test_fr1_references_gap_free_under_concurrent_creation(demo_db, redis_url, tmp_path):
    from webapp.db import db
    from webapp.models import Deployment, Invoice, Order, StaffUser, Ticket, User
    from webapp.services import billing, deployments, sequences, tickets
    from webapp.services.actor import Actor

    url, demo = demo_db
    with db.connection_context():
        staff = StaffUser.select().first()
        admin = User.get(User.email == demo.admin_email)
    actor = Actor(staff=staff, redis_url=redis_url)
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    barrier = threading.Barrier(THREADS)
    made, failures = [], []

    def create(n: int) -> None:
        try:
            with db.connection_context():
                barrier.wait(timeout=30)
                tickets.create_ticket(  # raises TicketRefused if refused
                    actor=Actor(admin, data_dir=tmp_path), subject=f"Concurrent {n}",
                    body="Bonjour.", uploads=[], keep_ids=[], session_key=None)
                billing.issue_invoice(demo.account, label=f"Concurrente {n}", amount_raw="10",
                                      due_raw=due, order_id=None, actor=actor)
                billing.create_order(demo.account, title=f"Commande {n}", amount_raw="5",
                                     actor=actor)
                deployments.create(account=demo.account, kind="onsite", title=f"Pose {n}",
                                   site_id=None, numbers="", actor=actor)
                made.append(n)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures and len(made) == THREADS, failures

    year = dt.date.today().year
    with db.connection_context():
        for column, prefix in ((Ticket.reference, "T"), (Invoice.number, "F"),
                               (Order.reference, "C"), (Deployment.reference, "D")):
            values = [v for (v,) in column.model.select(column)
                      .where(column.startswith(f"{prefix}{year}-")).tuples()]
            assert sorted(values) == [f"{prefix}{year}-{n:05d}" for n in range(1, THREADS + 1)]
        assert Ticket.get(Ticket.subject == "Concurrent 0").reference.startswith(f"T{year}-")
        # a creation rolled back gives its number back: the next one has no gap
        try:
            with db.atomic():
                sequences.next_number("T")
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        assert sequences.next_number("T") == f"T{year}-{THREADS + 1:05d}"

"""MAIL-1..2 for notifications: sent by the worker, French text + HTML, a link to the exact
page through sign-in and 2FA, never twice, failures listed for operator staff."""

from __future__ import annotations

import datetime as dt

from tests.conftest import text_of
from tests.exchange.conftest import count, link_of, q, subject_of


def _staff_reply(staff, ticket_id: int, body: str = "Voici notre réponse."):
    url = f"/ops/tickets/{ticket_id}"
    assert staff.post(url + "/repondre", {"body": body}, token_from=url).status_code == 303


def test_mail1_ticket_reply_link_asks_signin_and_2fa_then_lands_on_ticket(
        staff, demo, smtp, run_jobs, new_browser):
    from webapp.models import Ticket

    ticket = q(Ticket, Ticket.subject == "Pas de tonalité sur le poste de l'accueil")
    _staff_reply(staff, ticket.id)
    smtp.clear()
    run_jobs()
    message = smtp.last(demo.admin_email)
    body = text_of(message)
    assert "Le support a répondu à votre ticket" in body and "Voici notre réponse." in body
    link = link_of(message)
    assert link == f"http://manager.test/tickets/{ticket.id}"
    b = new_browser()  # signed out
    response = b.client.get(link.removeprefix("http://manager.test"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/connexion?next=/tickets/{ticket.id}"
    response = b.post("/connexion", {"email": demo.admin_email, "password": demo.password,
                                     "next": f"/tickets/{ticket.id}"})
    assert response.headers["Location"] == "/connexion/verification"
    b.request_code()
    response = b.submit_code(b.latest_code(demo.admin_email))
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{ticket.id}"
    assert "Voici notre réponse." in b.client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_mail1_notification_jobs_are_idempotent_and_never_send_twice(
        staff, demo, smtp, run_jobs, app):
    from webapp.db import db
    from webapp.models import Notification, OutboundEmail, Ticket, TicketMessage
    from worker import notify
    from worker.tasks import send_email

    ticket = q(Ticket, Ticket.subject == "Pas de tonalité sur le poste de l'accueil")
    _staff_reply(staff, ticket.id, "Réponse unique.")
    smtp.clear()
    run_jobs()
    assert len(smtp.messages(demo.admin_email)) == 1
    with db.connection_context():
        message = TicketMessage.select().where(TicketMessage.body == "Réponse unique.").get()
    # The job run again (a retry, a duplicate enqueue): no new message, no new e-mail.
    assert notify.ticket_reply(message.id) == 0
    assert count(Notification.select().where(
        Notification.key == f"ticket_reply:{message.id}")) == 1
    email = q(OutboundEmail, OutboundEmail.kind == "ticket_reply")
    assert send_email(email.id) == "skipped"  # the sent-marker of the delivery job
    run_jobs()
    assert len(smtp.messages(demo.admin_email)) == 1
    assert email.text_body is None  # bodies erased once sent


def test_mail1_invoice_issued_and_overdue_reminder_mails_link_to_invoice(
        staff, demo, smtp, run_jobs):
    from webapp.models import Invoice

    overdue = q(Invoice, Invoice.number == "F-DEMO-00002")
    url = f"/ops/factures/{overdue.id}"
    assert staff.post(url + "/relance", token_from=url).status_code == 303
    assert staff.post(url + "/relance", token_from=url).status_code == 303  # same day
    smtp.clear()
    run_jobs()
    mails = smtp.messages(demo.admin_email)
    assert len(mails) == 1  # one reminder per invoice and day
    assert subject_of(mails[0]) == "Paiement en retard : facture F-DEMO-00002"
    assert "Reste dû : 289,90" in text_of(mails[0])
    assert link_of(mails[0]).endswith(f"/facturation/factures/{overdue.id}")
    not_due = q(Invoice, Invoice.number == "F-DEMO-00003")
    url = f"/ops/factures/{not_due.id}"
    response = staff.post(url + "/relance", token_from=url)
    assert response.status_code == 400
    assert "pas en retard" in response.get_data(as_text=True)


def test_mail1_deployment_scheduled_mail_in_french_with_plain_text_and_html(
        staff, demo, smtp, run_jobs):
    from webapp.models import Deployment

    bordeaux = q(Deployment, Deployment.reference == "D-DEMO-00003")
    url = f"/ops/deploiements/{bordeaux.id}"
    day = dt.date.today() + dt.timedelta(days=5)
    staff.post(url + "/planifier", {"date": day.isoformat(), "slot": "08-12"}, token_from=url)
    smtp.clear()
    run_jobs()
    mail = smtp.last(demo.admin_email)
    assert subject_of(mail) == "Déploiement planifié : D-DEMO-00003"
    kinds = [part.get_content_type() for part in mail.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    assert f"est planifié le {day.strftime('%d/%m/%Y')}" in " ".join(text_of(mail).split())
    assert smtp.messages(demo.user_email) == []  # Bordeaux is outside Lucas's scope


def test_mail2_permanently_failed_mail_listed_for_staff_without_its_content(
        staff, demo, monkeypatch, redis_url):
    from tests.servers import free_port
    from webapp.db import db
    from webapp.models import MAIL_FAILED, OutboundEmail
    from webapp.services import mail
    from worker.tasks import MAX_ATTEMPTS, send_email

    with db.connection_context():
        email = mail.send_later(redis_url, kind="ticket_reply", to="absent@example.test",
                                subject="Réponse du support à votre ticket n° 1",
                                template="ticket_reply", first_name="X", ticket_id=1,
                                ticket_subject="S", excerpt="E", closed=False,
                                link="http://manager.test/tickets/1")
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nothing listens
    for _ in range(MAX_ATTEMPTS):
        try:
            send_email(email.id)
        except OSError:
            pass
    failed = q(OutboundEmail, OutboundEmail.id == email.id)
    assert failed.status == MAIL_FAILED and failed.text_body is None
    page = staff.client.get("/ops/courriels").get_data(as_text=True)
    assert "absent@example.test" in page and "ConnectionRefusedError" in page
    assert "manager.test/tickets/1" not in page


def test_mail1_overdue_reminders_sent_automatically_on_days_1_7_15_30(
        demo, smtp, run_jobs, redis_conn, db_conn, time_machine):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from rq import Queue

    from webapp.models import Invoice
    from worker.notify import NOTIFY_QUEUE

    invoice = q(Invoice, Invoice.number == "F-DEMO-00002")
    due = dt.date(2026, 10, 1)
    Invoice.update(due_on=due).where(Invoice.id == invoice.id).execute()
    queue = Queue(NOTIFY_QUEUE, connection=redis_conn)

    def sweep_on(days_late: int) -> int:
        time_machine.move_to(dt.datetime.combine(due + dt.timedelta(days=days_late),
                                                 dt.time(8, 0), ZoneInfo("Europe/Paris")),
                             tick=False)
        smtp.clear()
        queue.enqueue("worker.notify.overdue_sweep")
        run_jobs()
        return len(smtp.messages(demo.admin_email))

    sent = {late: sweep_on(late) for late in (0, 1, 2, 7, 8, 15, 30, 31)}
    assert sent == {0: 0, 1: 1, 2: 0, 7: 1, 8: 0, 15: 1, 30: 1, 31: 0}
    assert sweep_on(30) == 0  # the same day twice: never a second reminder
    subject = smtp.messages()[-1]["Subject"] if smtp.messages() else ""
    assert subject == ""  # nothing at all went out on that second sweep


def test_mail1_overdue_sweep_is_scheduled_daily_once(redis_conn, db_conn):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from worker.notify import NOTIFY_QUEUE, schedule_overdue_sweep

    paris = ZoneInfo("Europe/Paris")
    morning = dt.datetime(2026, 12, 1, 7, 30, tzinfo=paris)
    evening = dt.datetime(2026, 12, 1, 18, 0, tzinfo=paris)
    assert schedule_overdue_sweep(redis_conn, morning) == "overdue-sweep-2026-12-01"
    assert schedule_overdue_sweep(redis_conn, evening) == "overdue-sweep-2026-12-02"
    assert schedule_overdue_sweep(redis_conn, evening) == "overdue-sweep-2026-12-02"
    registry = ScheduledJobRegistry(queue=Queue(NOTIFY_QUEUE, connection=redis_conn))
    assert sorted(registry.get_job_ids()) == ["overdue-sweep-2026-12-01",
                                              "overdue-sweep-2026-12-02"]


def _html_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")


def test_ui5_each_recipient_reads_the_email_in_their_language(staff, demo, smtp, run_jobs):
    """The invoice e-mail goes to every billing user: the one who chose English in
    Préférences gets it in English (subject, text, HTML, date and amount by Babel), the
    others in French."""
    from webapp.db import db
    from webapp.models import Invoice, User

    with db.connection_context():
        User.update(language="en").where(User.email == demo.admin_email).execute()
    overdue = q(Invoice, Invoice.number == "F-DEMO-00002")
    url = f"/ops/factures/{overdue.id}"
    assert staff.post(url + "/relance", token_from=url).status_code == 303
    smtp.clear()
    run_jobs()
    mail = smtp.last(demo.admin_email)
    assert subject_of(mail) == "Overdue payment: invoice F-DEMO-00002"
    text = " ".join(text_of(mail).split())
    due = overdue.due_on
    assert text.startswith("Hello Claire,")
    assert (f"invoice F-DEMO-00002 (Postes Yealink (acompte)), due on "
            f"{due.month}/{due.day}/{due:%y}, is not fully paid. Balance due: €289.90.") in text
    assert "Automatic message, please do not reply." in text
    assert "Bonjour" not in text and "Reste dû" not in text and "289,90" not in text
    html = _html_of(mail)
    assert '<html lang="en">' in html and "Hello Claire," in html and "€289.90" in html
    # back to French: the next e-mail (a new invoice) is French again
    with db.connection_context():
        User.update(language=None).where(User.email == demo.admin_email).execute()
    due = (dt.date.today() + dt.timedelta(days=30))
    account = f"/ops/comptes/{demo.account.id}"
    staff.post(account + "/factures", {"label": "Mise en service", "amount": "1234,50",
                                       "due_on": due.isoformat()}, token_from=account)
    smtp.clear()
    run_jobs()
    french = smtp.last(demo.admin_email)
    assert subject_of(french) == f"Nouvelle facture F{dt.date.today().year}-00001"
    assert (f"Montant : 1\u202f234,50\u00a0€, à régler avant le {due:%d/%m/%Y}."
            in text_of(french))
    assert '<html lang="fr">' in _html_of(french)

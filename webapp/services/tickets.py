"""Support tickets and their attachments (TKT-1..2).

Plain values in and out. A refused message changes nothing except that its
valid files are kept as *pending uploads* bound to the uploader and to a key
held in their session, so that the person only fixes what was refused: the
text comes back in the form, the kept files are listed (ticked) and sent again
with the next submission; only the refused files have to be chosen again.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from webapp.db import db
from webapp.i18n import _
from webapp.models import (
    TICKET_CLOSED,
    TICKET_OPEN,
    Attachment,
    StaffUser,
    Ticket,
    TicketMessage,
    User,
    utcnow,
)
from webapp.services import audit, notify, sequences
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.tokens import digest

MAX_FILES = 3
MAX_BYTES = 2 * 1024 * 1024  # 2 Mo
MAX_BODY = 10_000
MAX_SUBJECT = 200
PENDING_TTL = dt.timedelta(days=1)
# SEC-6: files kept from refused forms, per user (all sessions): the oldest go beyond this.
MAX_PENDING = 2 * MAX_FILES
TEXT_EXTENSIONS = (".txt", ".log", ".csv")


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the browser gave and its bytes."""

    filename: str
    data: bytes


@dataclass
class _Checked:
    """A submitted message being checked: its refusals, the files kept, the valid ones."""

    ticket: Ticket | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> French message
    file_errors: list[str] = field(default_factory=list)
    pending: list[Attachment] = field(default_factory=list)  # files kept for the next try
    valid: list[tuple[Upload, str]] = field(default_factory=list)  # new files, checked

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_errors


class TicketRefused(FormError):
    """A refused message: `errors` by field, `file_errors` one per refused file, and the
    valid files kept as `pending` uploads for the next try (nothing else was written)."""

    ok = False

    def __init__(self, checked: _Checked) -> None:
        super().__init__(dict(checked.errors) or {"files": checked.file_errors[0]})
        self.file_errors = checked.file_errors
        self.pending = checked.pending


# --- content checks ----------------------------------------------------------------

def sniff(data: bytes, name: str) -> str:
    """The content type from the first bytes; FormError (field "files") when the content
    is not of an accepted type, whatever the file's name says."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if name.lower().endswith(TEXT_EXTENSIONS) and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "text/plain"
    raise FormError({"files": _("« %(name)s » n'est pas d'un type accepté (PDF, PNG, JPEG, "
                                "GIF, WebP ou texte) : son contenu ne correspond pas.",
                                name=name)})


def clean_name(name: str) -> str:
    """The name shown and offered at download; FormError (field "files") for names that
    try to be paths or carry special characters."""
    cleaned = name.strip()
    if (not cleaned or "/" in cleaned or "\\" in cleaned or ".." in cleaned
            or cleaned.startswith(".") or any(ord(c) < 32 or c in '<>:"|?*' for c in cleaned)):
        raise FormError({"files": _("« %(filename)s » : nom de fichier refusé (pas de chemin "
                                    "ni de caractères spéciaux). Renommez le fichier puis "
                                    "joignez-le à nouveau.", filename=name[:80])})
    if len(cleaned) > 150:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 140] + dot + ext[:8]) if dot else cleaned[:150]
    return cleaned


def _size_label(size: int) -> str:
    return _("%(num)s Mo", num=size / 1024 / 1024)


def check_upload(upload: Upload) -> str:
    """The content type of an acceptable file; FormError (field "files") says why not."""
    name = clean_name(upload.filename)
    if len(upload.data) > MAX_BYTES:
        raise FormError({"files": _("« %(name)s » pèse %(size_label)s : 2 Mo au maximum par "
                                    "pièce jointe.", name=name,
                                    size_label=_size_label(len(upload.data)))})
    if not upload.data:
        raise FormError({"files": _("« %(name)s » est vide.", name=name)})
    return sniff(upload.data, name)


# --- storage -------------------------------------------------------------------------

def storage_dir(data_dir: Path, account_id: int) -> Path:
    return Path(data_dir) / "attachments" / str(account_id)


def path_of(attachment: Attachment, data_dir: Path) -> Path:
    return storage_dir(data_dir, attachment.account_id) / attachment.stored_name


def _store(data_dir: Path, account_id: int, upload: Upload, kind: str, *, uploader: User,
           pending_key: str | None) -> Attachment:
    stored = secrets.token_hex(16)
    folder = storage_dir(data_dir, account_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(upload.data)
    return Attachment.create(account=account_id, uploader=uploader, pending_key=pending_key,
                             filename=clean_name(upload.filename), stored_name=stored,
                             content_type=kind, size=len(upload.data))


def _delete(attachments: list[Attachment], data_dir: Path) -> None:
    for attachment in attachments:
        path_of(attachment, data_dir).unlink(missing_ok=True)
        attachment.delete_instance()


def pending_uploads(user: User, session_key: str | None, ids=None) -> list[Attachment]:
    """Files this user kept from a refused form in this session (optionally only `ids`)."""
    if not session_key:
        return []
    query = Attachment.select().where(
        (Attachment.uploader == user) & Attachment.message.is_null()
        & (Attachment.pending_key == digest(session_key))
        & (Attachment.created_at > utcnow() - PENDING_TTL))
    if ids is not None:
        query = query.where(Attachment.id.in_(list(ids) or [0]))
    return list(query.order_by(Attachment.id))


def purge_stale_pending(data_dir: Path) -> None:
    _delete(list(Attachment.select().where(
        Attachment.message.is_null() & (Attachment.created_at <= utcnow() - PENDING_TTL))),
        data_dir)


# --- customer side -------------------------------------------------------------------

def visible_tickets(account_id: int, status: str):
    return (Ticket.select().where((Ticket.account == account_id) & (Ticket.status == status))
            .order_by(Ticket.updated_at.desc()))


def thread(ticket: Ticket) -> list[TicketMessage]:
    messages = list(TicketMessage.select().where(TicketMessage.ticket == ticket)
                    .order_by(TicketMessage.created_at, TicketMessage.id))
    by_message: dict[int, list[Attachment]] = {}
    for attachment in Attachment.select().where(
            Attachment.message.in_([m.id for m in messages] or [0])).order_by(Attachment.id):
        by_message.setdefault(attachment.message_id, []).append(attachment)
    for message in messages:
        message.files = by_message.get(message.id, [])
    return messages


def thread_version(ticket: Ticket) -> str:
    """Changes whenever the thread or its status does (ETag of the polled thread)."""
    count = TicketMessage.select().where(TicketMessage.ticket == ticket).count()
    return f"{ticket.id}-{ticket.status}-{ticket.updated_at.isoformat()}-{count}"


def _validate(outcome: _Checked, *, body: str, uploads: list[Upload], kept: list[Attachment],
              user: User, session_key: str | None, data_dir: Path, account_id: int) -> None:
    """Fill `outcome` with errors; keep the valid new files as pending when refusing."""
    purge_stale_pending(data_dir)  # files kept more than a day ago and never sent
    if not body.strip():
        outcome.errors["body"] = _("Écrivez votre message.")
    elif len(body) > MAX_BODY:
        outcome.errors["body"] = _("Le message ne peut pas dépasser %(max_body)s caractères.",
                                   max_body=MAX_BODY)
    if len(kept) > MAX_FILES:  # SEC-6: kept files count, whatever was kept before
        outcome.file_errors.append(_(
            "Vous avez gardé %(kept)s pièces jointes : %(max)s au maximum par message. "
            "Décochez celles à ne pas envoyer.", kept=len(kept), max=MAX_FILES))
    valid: list[tuple[Upload, str]] = []
    for upload in uploads:
        if not upload.filename and not upload.data:
            continue  # an empty file input
        try:
            kind = check_upload(upload)
        except FormError as refused:
            outcome.file_errors.append(refused.message)
            continue
        if len(kept) + len(valid) >= MAX_FILES:
            outcome.file_errors.append(
                _("« %(clean_name)s » n'a pas été joint : %(max_files)s pièces jointes au "
                  "maximum par message.",
                  clean_name=clean_name(upload.filename), max_files=MAX_FILES))
        else:
            valid.append((upload, kind))
    outcome.pending = list(kept)
    if outcome.ok:
        outcome.valid = valid
        return
    outcome.valid = []
    if session_key:
        for upload, kind in valid:
            outcome.pending.append(_store(data_dir, account_id, upload, kind, uploader=user,
                                          pending_key=digest(session_key)))
        _cap_pending(user, data_dir)
        alive = {a.id for a in Attachment.select(Attachment.id).where(
            Attachment.id.in_([a.id for a in outcome.pending] or [0]))}
        outcome.pending = [a for a in outcome.pending if a.id in alive]


def _cap_pending(user: User, data_dir: Path) -> None:
    """SEC-6: a user never holds more than MAX_PENDING unsent files; the oldest go."""
    rows = list(Attachment.select().where((Attachment.uploader == user)
                                          & Attachment.message.is_null())
                .order_by(Attachment.id.desc()))
    if len(rows) > MAX_PENDING:
        _delete(rows[MAX_PENDING:], data_dir)


def _post(ticket: Ticket, outcome: _Checked, *, user: User, body: str,
          data_dir: Path) -> Ticket:
    if len(outcome.valid) + len(outcome.pending) > MAX_FILES:  # SEC-6, whatever the caller
        raise ValueError("more than MAX_FILES attachments on one message")
    written: list[Attachment] = []
    try:
        with db.atomic():
            message = TicketMessage.create(ticket=ticket, author_user=user, body=body.strip())
            for upload, kind in outcome.valid:
                attachment = _store(data_dir, ticket.account_id, upload, kind, uploader=user,
                                    pending_key=None)
                written.append(attachment)
                Attachment.update(message=message).where(Attachment.id == attachment.id).execute()
            for attachment in outcome.pending:
                Attachment.update(message=message, pending_key=None).where(
                    Attachment.id == attachment.id).execute()
            Ticket.update(status=TICKET_OPEN, closed_at=None, updated_at=utcnow()).where(
                Ticket.id == ticket.id).execute()
    except Exception:
        for attachment in written:
            path_of(attachment, data_dir).unlink(missing_ok=True)
        raise
    return message


def add_message(ticket: Ticket, *, actor: Actor, body: str, uploads: list[Upload],
                keep_ids: list[int], session_key: str | None) -> Ticket:
    """TKT-1/2: a customer message (a closed ticket reopens): the ticket as it is now.
    Raises TicketRefused with the reasons (valid files kept as pending uploads)."""
    user, data_dir = actor.user, actor.data_dir
    outcome = _Checked(ticket=ticket)
    kept = pending_uploads(user, session_key, keep_ids)
    _validate(outcome, body=body, uploads=uploads, kept=kept, user=user,
              session_key=session_key, data_dir=data_dir, account_id=ticket.account_id)
    if not outcome.ok:
        raise TicketRefused(outcome)
    reopened = ticket.status == TICKET_CLOSED
    message = _post(ticket, outcome, user=user, body=body, data_dir=data_dir)
    audit.record("ticket.message", account=ticket.account_id, actor=actor,
                 ticket=ticket.id, files=len(message.attachments), reopened=reopened)
    return Ticket.get_by_id(ticket.id)


def create_ticket(*, actor: Actor, subject: str, body: str, uploads: list[Upload],
                  keep_ids: list[int], session_key: str | None) -> Ticket:
    """TKT-1: a new ticket with its first message; raises TicketRefused as add_message."""
    user, data_dir = actor.user, actor.data_dir
    outcome = _Checked()
    subject = subject.strip()
    kept = pending_uploads(user, session_key, keep_ids)
    if not subject:
        outcome.errors["subject"] = _("Indiquez l'objet du ticket.")
    elif len(subject) > MAX_SUBJECT:
        outcome.errors["subject"] = _("L'objet ne peut pas dépasser %(max_subject)s caractères.",
                                      max_subject=MAX_SUBJECT)
    _validate(outcome, body=body, uploads=uploads, kept=kept, user=user,
              session_key=session_key, data_dir=data_dir, account_id=user.account_id)
    if not outcome.ok:
        raise TicketRefused(outcome)
    with db.atomic():
        ticket = Ticket.create(account=user.account_id, subject=subject, created_by=user,
                               reference=sequences.next_number("T"))
        _post(ticket, outcome, user=user, body=body, data_dir=data_dir)
    audit.record("ticket.created", account=user.account_id, actor=actor, ticket=ticket.id)
    return Ticket.get_by_id(ticket.id)


# --- operator side (OPS-1) -----------------------------------------------------------

def inbox(status: str = TICKET_OPEN, assigned: int | None = None):
    query = Ticket.select().where(Ticket.status == status)
    if assigned is not None:
        query = query.where(Ticket.assigned_to == assigned)
    return query.order_by(Ticket.updated_at.desc())


def staff_reply(ticket: Ticket, *, actor: Actor, body: str, close: bool) -> TicketMessage:
    """The operator answers; the customer sees it in the thread and gets the e-mail."""
    body = body.strip()
    if not body:
        raise FormError({"body": _("Écrivez la réponse.")})
    if len(body) > MAX_BODY:
        raise FormError({"body": _("La réponse ne peut pas dépasser %(max)s caractères.",
                                   max=MAX_BODY)})
    now = utcnow()
    staff = actor.staff
    with db.atomic():
        message = TicketMessage.create(ticket=ticket, author_staff=staff, body=body)
        changes = {"updated_at": now}
        if close:
            changes.update(status=TICKET_CLOSED, closed_at=now)
        if ticket.assigned_to_id is None:
            changes["assigned_to"] = staff.id
        Ticket.update(**changes).where(Ticket.id == ticket.id).execute()
    audit.record("ticket.staff_reply", account=ticket.account_id, staff=staff.id,
                 ticket=ticket.id, closed=close)
    notify.enqueue(actor.redis_url, "ticket_reply", message.id)
    return message


def set_status(ticket: Ticket, status: str, *, actor: Actor) -> None:
    if status not in (TICKET_OPEN, TICKET_CLOSED):
        raise FormError({"status": _("Statut inconnu.")})
    now = utcnow()
    Ticket.update(status=status, updated_at=now,
                  closed_at=now if status == TICKET_CLOSED else None).where(
        Ticket.id == ticket.id).execute()
    audit.record(f"ticket.{status}", account=ticket.account_id, staff=actor.staff.id,
                 ticket=ticket.id)


def assign(ticket: Ticket, staff_id: int | None, *, actor: Actor) -> None:
    if staff_id is not None and not StaffUser.select().where(
            (StaffUser.id == staff_id) & StaffUser.is_active).exists():
        raise FormError({"staff": _("Choisissez un membre actif de l'équipe.")})
    Ticket.update(assigned_to=staff_id, updated_at=utcnow()).where(
        Ticket.id == ticket.id).execute()
    audit.record("ticket.assigned", account=ticket.account_id, staff=actor.staff.id,
                 ticket=ticket.id, to=staff_id)


def sent_attachment(attachment_id: int, account_id: int | None = None) -> Attachment | None:
    """An attachment of a posted message (pending uploads are their uploader's only);
    `account_id` None for staff, who serve every account."""
    query = (Attachment.id == attachment_id) & Attachment.message.is_null(False)
    if account_id is not None:
        query &= Attachment.account == account_id
    return Attachment.get_or_none(query)

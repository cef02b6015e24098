"""Demo directory and call history (DIR-5 / LINE-4 / LINE-5), for `load_demo`.

- Folders: « Direction générale », « Atelier », « Commercial » and an outside-contacts
  folder « Prestataires » (four suppliers with company, job, numbers);
  every demo employee is filed in a folder with a job title.
- Liste noire: the reception line blocks a nuisance caller and anonymous calls.
- Call history: CDR rows (`CallRecord`) for several lines over the previous and the
  current billing month (incoming answered, outgoing, missed, busy, blocked), so that
  the history and usage pages are not empty. Claire's line (+33100000101) is left to
  the live simulator and the history tests.

Idempotent: folders by name, outside contacts by e-mail, filing only of contacts not yet
in a folder (a move made in the demo is kept), blocked numbers by (line, number), call
rows by a deterministic stream id (`demo-{account}-{n}`, unique) inserted with ON
CONFLICT IGNORE.
"""

from __future__ import annotations

import datetime as dt
import random

from webapp.db import db
from webapp.models import Account, Contact, Service
from webapp.models.core import Folder
from webapp.models.history import ANONYMOUS, BlockedNumber, CallRecord
from webapp.services import blacklist, search
from webapp.services.accounts import default_site
from webapp.services.call_history import local_to_utc, zone
from webapp.settings import load

# (name, outside contacts?)
FOLDERS = [
    ("Direction générale", False),
    ("Atelier", False),
    ("Commercial", False),
    ("Prestataires", True),
]
OUTSIDE = "Prestataires"

# Demo employee (first name) → (folder, job title).
FILING = {
    "Claire": ("Direction générale", "Directrice générale"),
    "Arthur": ("Direction générale", "Directeur administratif et financier"),
    "Camille": ("Direction générale", "Assistante de direction"),
    "Sarah": ("Direction générale", "Responsable des ressources humaines"),
    "Emma": ("Direction générale", "Chargée d'accueil"),
    "Léa": ("Atelier", "Cheffe d'atelier"),
    "Louis": ("Atelier", "Technicien de maintenance"),
    "Gabriel": ("Atelier", "Magasinier"),
    "Nathan": ("Atelier", "Préparateur de commandes"),
    "Lucas": ("Commercial", "Responsable de l'agence de Lyon"),
    "Hugo": ("Commercial", "Conseiller clientèle"),
    "Chloé": ("Commercial", "Commerciale sédentaire"),
    "Inès": ("Commercial", "Assistante commerciale"),
    "Manon": ("Commercial", "Responsable de l'agence de Bordeaux"),
    "Jules": ("Commercial", "Technico-commercial"),
}

# Outside contacts: (first, last, company, job, e-mail, work, mobile, address).
SUPPLIERS = [
    ("Pascal", "Renaud", "Quincaillerie Renaud & Fils", "Commercial grands comptes",
     "p.renaud@quincaillerie-renaud.example", "+33472100200", "+33612450078",
     "12 rue de la Charité, 69002 Lyon"),
    ("Sophie", "Caron", "Imprimerie du Rhône", "Chargée de clientèle",
     "sophie.caron@imprimerie-rhone.example", "+33478223344", None,
     "5 quai Perrache, 69002 Lyon"),
    ("Bruno", "Lemaire", "Électricité Lemaire", "Artisan électricien",
     "contact@electricite-lemaire.example", None, "+33698765412", None),
    ("Nadia", "Benali", "Cabinet comptable Lenoir", "Expert-comptable",
     "n.benali@cabinet-lenoir.example", "+33145678910", "+33677889900",
     "40 boulevard Haussmann, 75009 Paris"),
]

# LINE-4: the reception line blocks a nuisance caller and anonymous calls.
BLACKLIST = {"+33100000103": ["+33970123456", ANONYMOUS]}

# Lines with a history: number → calls per month (busier lines first).
HISTORY_LINES = {
    "+33100000103": 34,  # Emma, reception
    "+33100000104": 26,  # Hugo, fixed
    "+33600000104": 12,  # Hugo, mobile
    "+33100000102": 18,  # Lucas, Lyon
    "+33100000107": 16,  # Chloé, Lyon
    "+33100000108": 8,  # Gabriel, Entrepôt
}
# Customers and prospects calling in or called (French landlines and mobiles).
PEERS = ["+33478000101", "+33472334455", "+33556778899", "+33140506070", "+33611223344",
         "+33622334455", "+33633445566", "+33388776655", "+33491234567", "+33299887766"]


def seed(account: Account, today: dt.datetime | None = None) -> None:
    """Folders, outside contacts, filing, blacklist and call history (idempotent)."""
    with db.atomic():
        folders = _folders(account)
        _file_employees(account, folders)
        _suppliers(account, folders[OUTSIDE])
        _blacklist(account)
    _history(account, today)


def _folders(account: Account) -> dict[str, Folder]:
    out = {}
    for name, external in FOLDERS:
        folder = Folder.get_or_none((Folder.account == account) & (Folder.name == name))
        out[name] = folder or Folder.create(account=account, name=name, external=external)
    return out


def _file_employees(account: Account, folders: dict[str, Folder]) -> None:
    for first, (folder, job) in FILING.items():
        filed = [c.id for c in Contact.select(Contact.id).where(
            (Contact.account == account) & (Contact.first_name == first)
            & Contact.folder.is_null() & Contact.job_title.is_null())]
        Contact.update(folder=folders[folder], job_title=job,
                       company="Atelier Dupont & Associés").where(
            (Contact.account == account) & (Contact.first_name == first)
            & Contact.folder.is_null() & Contact.job_title.is_null()).execute()
        search.reindex(filed)


def _suppliers(account: Account, folder: Folder) -> None:
    site = default_site(account)
    for first, last, company, job, email, work, mobile, address in SUPPLIERS:
        if Contact.select().where((Contact.account == account)
                                  & (Contact.email == email)).exists():
            continue
        Contact.create(account=account, site=site, folder=folder, first_name=first,
                       last_name=last, company=company, job_title=job, email=email,
                       phone_work=work, phone_mobile=mobile, address=address)


def _blacklist(account: Account) -> None:
    for number, blocked in BLACKLIST.items():
        line = Service.get_or_none((Service.account == account) & (Service.number == number))
        if line is None:
            continue
        for peer in blocked:
            BlockedNumber.insert(service=line.id, number=peer).on_conflict_ignore().execute()
        # Redis unreachable: publish() logs it and the calllog process republishes.
        blacklist.publish(line, load().ENGINE_REDIS_URL)


def _history(account: Account, now: dt.datetime | None = None) -> None:
    """CDR rows over the previous and the current month, in the account's time zone."""
    tz = zone(account.id)
    now_local = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    month_start = now_local.date().replace(day=1)
    prev_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    lines = {s.number: s for s in Service.select().where(
        (Service.account == account) & Service.number.in_(list(HISTORY_LINES)))}
    suppliers = [s[5] or s[6] for s in SUPPLIERS]
    rows = []
    for number, per_month in HISTORY_LINES.items():
        line = lines.get(number)
        if line is None:
            continue
        # Two generators: what the calls are does not depend on today's date.
        when = random.Random(f"demo-history-when-{number}")
        what = random.Random(f"demo-history-what-{number}")
        blocked = BLACKLIST.get(number, [])
        for month, (start, end) in enumerate(((prev_start, month_start),
                                              (month_start, now_local.date()))):
            for n in range(per_month):
                started = _moment(when, start, end, tz, local_to_utc, now_local)
                row = _call(what, account.id, line, f"{number.lstrip('+')}-{month}-{n}",
                            started or now_local, suppliers, blocked)
                if started is not None:
                    rows.append(row)
    with db.atomic():
        for i in range(0, len(rows), 200):
            CallRecord.insert_many(rows[i:i + 200]).on_conflict_ignore().execute()


def _moment(rng, start: dt.date, end: dt.date, tz, local_to_utc, now_local) -> dt.datetime | None:
    """A working-hours moment (naive UTC) between `start` and `end` (inclusive when it is
    today: only before now); None if that leaves nothing (the first minutes of a month)."""
    days = max(0, (end - start).days - (0 if end == now_local.date() else 1))
    day = start + dt.timedelta(days=rng.randint(0, days))
    if day.weekday() >= 5:  # weekends are quiet: move to the Friday before when possible
        back = day - dt.timedelta(days=day.weekday() - 4)
        day = back if back >= start else day
    seconds = rng.randint(8 * 3600 + 30 * 60, 18 * 3600 + 30 * 60)
    moment = local_to_utc(day, tz) + dt.timedelta(seconds=seconds)
    now_utc = now_local.astimezone(dt.UTC).replace(tzinfo=None)
    if moment >= now_utc - dt.timedelta(minutes=30):
        earliest = local_to_utc(start, tz)
        span = (now_utc - dt.timedelta(minutes=30) - earliest).total_seconds()
        if span <= 0:
            return None
        moment = earliest + dt.timedelta(seconds=rng.uniform(0, span))
    return moment.replace(microsecond=0)


def _call(rng, account_id: int, line: Service, key: str, started: dt.datetime,
          suppliers: list[str], blocked: list[str]) -> dict:
    draw = rng.random()
    peer = rng.choice(PEERS + suppliers)
    direction, status = "in", "answered"
    if blocked and draw < 0.08:
        status, peer = "blocked", rng.choice(blocked)
    elif draw < 0.45:
        direction = "out"
        status = "busy" if rng.random() < 0.1 else "answered"
    elif draw < 0.60:
        status = "missed"
        peer = ANONYMOUS if rng.random() < 0.3 else peer
    elif draw < 0.63:
        status = "busy"
    answered = duration = None
    if status == "answered":
        answered = started + dt.timedelta(seconds=rng.randint(3, 18))
        duration = int(min(1500, rng.lognormvariate(4.6, 0.9)))  # ~100 s median
        ended = answered + dt.timedelta(seconds=duration)
    elif status == "blocked":
        ended = started
    else:
        ended = started + dt.timedelta(seconds=rng.randint(5, 30))
    return {"account": account_id, "service": line.id, "entry_id": f"demo-{account_id}-{key}",
            "direction": direction, "peer": peer, "status": status, "started_at": started,
            "answered_at": answered, "ended_at": ended, "duration_s": duration or 0,
            "call_ref": ""}

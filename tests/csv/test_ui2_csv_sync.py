"""CSV sync (UI-2 area): re-importing an unchanged export proposes nothing, whatever the
way values were stored (empty texts, spaces, numbers typed before the one normaliser);
the preview shows each change as old → new."""

from __future__ import annotations

import html

from tests.csv.conftest import rows_of, to_csv


def test_ui2_csv_unchanged_export_after_card_edits_proposes_nothing(sync, demo, db_conn):
    from webapp.models import Contact

    claire = Contact.get((Contact.account == demo.account) & (Contact.first_name == "Claire"))
    # what a card edit or an older import leaves behind: empty strings, doubled spaces
    Contact.update(company="", job_title="Directrice  générale", address="").where(
        Contact.id == claire.id).execute()
    token, state = sync.preview(sync.export())
    counts = state["summary"]["counts"]
    assert (counts["creates"], counts["updates"], counts["deletes"], counts["errors"]) == (
        0, 0, 0, 0), state["summary"]


def test_ui2_csv_preview_shows_old_and_new_values(sync, demo, db_conn):
    rows = rows_of(sync.export())
    claire = next(r for r in rows if r["prenom"] == "Claire")
    claire["telephone_pro"] = "+33 (0)1 23 45 67 89"
    claire["fonction"] = "Gérante"
    token, state = sync.preview(to_csv(rows))
    update = state["summary"]["updates"][0]
    assert {"field": "téléphone pro", "old": "01 00 00 01 01", "new": "01 23 45 67 89"} in \
        update["changes"]
    page = html.unescape(sync.b.client.get(f"/annuaire/csv/synchroniser/{token}")
                         .get_data(as_text=True))
    assert "téléphone pro : <del>01 00 00 01 01</del> → <ins>01 23 45 67 89</ins>" in page
    assert "fonction : <del>Directrice générale</del> → <ins>Gérante</ins>" in page

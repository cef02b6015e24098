"""UI-1: the CSV synchronisation counts read as French: "1 contact créé", "1 ligne en
erreur" (never "1 contacts créés", "1 lignes en erreur"), plurals above one."""

from __future__ import annotations

import html
import re

from tests.csv.conftest import rows_of, to_csv


def _page(sync, token: str) -> str:
    response = sync.b.client.get(f"/annuaire/csv/synchroniser/{token}")
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(page).split())


def test_ui1_csv_counts_are_singular_for_one_and_plural_above(sync, demo, db_conn):
    rows = rows_of(sync.export())
    keys = list(rows[0])
    new = dict.fromkeys(keys, "")
    new.update(nom="Vasseur", prenom="Élodie")
    token, state = sync.preview(to_csv(rows + [new]))
    assert state["state"] == "ready", state
    state = sync.confirm(token)
    page = _page(sync, token)
    assert "1 contact créé" in page and "1 contacts" not in page
    # one bad row, then two
    bad = dict(new, nom="", prenom="Sans nom")
    token, state = sync.preview(to_csv(rows + [bad]))
    assert state["state"] == "invalid"
    page = _page(sync, token)
    assert "1 ligne en erreur" in page and "1 lignes en erreur" not in page
    token, state = sync.preview(to_csv(rows + [bad, dict(bad, prenom="Autre")]))
    assert "2 lignes en erreur" in _page(sync, token)

"""SWB-5 / SEC-8: the directory on the board. The search is case- and accent-folded and
finds a number however it is typed (the contacts' search column and the phone normaliser of
UI-2), or a line a contact holds by its number or extension; callers and results come from
the viewer's reach only — their account, and inside it their site scope (ROLE-3)."""

from __future__ import annotations

import json
import re
import time

STATE = "acd:{0}:state"
MANON_MOBILE, HUGO_MOBILE = "+33600000109", "+33600000104"  # Bordeaux / Paris › Accueil


def waiting(number: str, *callers: str) -> str:
    now = int(time.time() * 1000)
    return json.dumps({
        "number": number, "ts": now, "ringing": [], "menu": [], "bridged": [], "agents": [],
        "waiting": [{"call": f"w{i}", "caller": c, "profile": "accueil", "arrived_ms": now,
                     "position": i + 1, "queued_ms": now} for i, c in enumerate(callers)]})


def search(browser, welcome, q: str) -> str:
    r = browser.client.get(f"/standard/{welcome.id}/appels/w0/annuaire", query_string={"q": q})
    assert r.status_code == 200
    return r.data.decode().replace("&#39;", "'")


def names(html: str) -> list[str]:
    """The people a search result lists."""
    return re.findall(r'<span class="who">([^<]+?) ?(?:<small>|</span>)', html)


def test_swb5_directory_search_is_folded_and_finds_numbers_typed_any_way(admin, welcome,
                                                                         db_conn):
    from webapp.models import Contact

    # Léa Simon's card no longer lists her desk number: her line still finds her
    lea = Contact.get(Contact.first_name == "Léa")
    lea.phone_work = None
    lea.save()
    for q in ("LEFEVRE", "chloé lefèvre", "Chloe", "  lefÈvre  "):
        assert "Chloé Lefèvre" in search(admin, welcome, q), q
    for q in ("ELECTRICITE", "électricité lemaire"):
        assert "Bruno Lemaire" in search(admin, welcome, q), q
    for q in ("06 98 76 54 12", "+33 6 98 76 54 12", "0698765412", "06.98.76", "0033698765412"):
        assert "Bruno Lemaire" in search(admin, welcome, q), q
    assert "Pascal Renaud" in search(admin, welcome, "04 72 10 02 00")
    for q in ("01 00 00 01 05", "+33100000105", "105"):
        found = search(admin, welcome, q)
        assert "Léa Simon" in found and "Ligne fixe · poste 105 01 00 00 01 05" in found, q
    # bad or too short input: nothing found, a French message, nothing else
    assert search(admin, welcome, "a").strip() == ""
    for q in ("%%", "__", "'; drop table contact; --", "z" * 300):
        found = search(admin, welcome, q)
        assert "Personne ne correspond" in found and "sb-dir-list" not in found, q


def test_swb5_sec8_callers_and_results_come_from_the_viewers_scope_and_account_only(
        admin, welcome, demo, ids, new_browser, redis_conn, db_conn):
    from tests.factories import make_user
    from webapp.models import Contact
    from webapp.services.accounts import create_account, default_site

    # another account's contact has the same mobile as a caller: never named from there
    other = create_account("Concurrent SA")
    Contact.create(account=other, site=default_site(other), first_name="Zoé",
                   last_name="Concurrente", phone_mobile="+33611112222", company="Concurrent SA")
    redis_conn.hset(STATE, welcome.number,
                    waiting(welcome.number, MANON_MOBILE, HUGO_MOBILE, "+33611112222"))
    board = admin.client.get("/standard").data.decode()
    assert "Manon Roux" in board and "Hugo Laurent" in board  # every site: both named
    assert "Zoé" not in board and "06 11 11 22 22" in board
    assert names(search(admin, welcome, "Zoé")) == []
    assert names(search(admin, welcome, "06 11 11 22 22")) == []

    # a supervisor of Paris (the welcome number's site): Manon (Bordeaux) is out of scope
    make_user(demo.account, "accueil.paris@atelier-dupont.example", "Paula", "calls.supervise",
              "sites", [ids["site_paris"]], demo.password)
    paris = new_browser()
    paris.sign_in("accueil.paris@atelier-dupont.example", demo.password)
    board = paris.client.get("/standard").data.decode()
    assert "Hugo Laurent" in board and "06 00 00 01 09" in board
    assert "Manon Roux" not in board
    panel = paris.client.get(f"/standard/{welcome.id}/appels/w0").data.decode()
    assert "Appel de 06 00 00 01 09" in panel and "Manon" not in panel
    assert names(search(admin, welcome, "Manon")) == ["Manon Roux"]
    assert names(search(paris, welcome, "Manon")) == []
    assert names(search(paris, welcome, "06 00 00 01 09")) == []
    assert names(search(paris, welcome, "109")) == []  # her extension: out of scope too
    assert names(search(paris, welcome, "laurent")) == ["Hugo Laurent"]
    # her lines are not offered either (ROLE-3), but the admin sees them
    assert "01 00 00 01 09" in search(admin, welcome, "manon")

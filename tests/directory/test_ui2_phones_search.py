"""UI-2: one phone normaliser (phonenumbers) for forms, import, search, the engine and
display; search ignores case, accents and the way a number is written."""

from __future__ import annotations

import pytest

from tests.directory.conftest import post, section, text


@pytest.mark.parametrize("typed", ["+33 (0)1 23 45 67 89", "01 23 45 67 89", "01.23.45.67.89",
                                   "0033 1 23 45 67 89", "+33 1 23 45 67 89", "0123456789",
                                   "+33 0 1 23 45 67 89"])
def test_ui2_every_french_habit_becomes_one_e164(typed):
    from engine.config import is_e164
    from webapp.services import phones

    assert phones.normalize(typed) == "+33123456789"
    assert is_e164("+33123456789") and phones.is_e164("+33123456789")


def test_ui2_one_rule_refuses_impossible_numbers_everywhere():
    from engine.config import is_e164
    from webapp.services import phones

    for bad in ("+330123456789", "+3312345678", "12", "+1234", "06 12 34", "abc"):
        assert phones.normalize(bad) is None or phones.normalize(bad) != bad
        assert not is_e164(bad)
    assert phones.normalize("+44 20 7946 0958") == "+442079460958"
    assert phones.display("+33123456789") == "01 23 45 67 89"
    assert phones.display("+442079460958") == "+44 20 7946 0958"


def test_ui2_contact_form_stores_e164_and_pages_show_national_format(admin, ids):
    from webapp.models import Contact

    data = {"first_name": "Hélène", "last_name": "Dupré", "email": "helene@example.fr",
            "phone_work": "+33 (0)1 23 45 67 89", "phone_mobile": "06.12.34.56.78",
            "site_id": str(ids["site_paris"])}
    response = post(admin, "/annuaire/nouveau", data)
    assert response.status_code == 303, text(response)
    contact = Contact.get(Contact.last_name == "Dupré")
    assert (contact.phone_work, contact.phone_mobile) == ("+33123456789", "+33612345678")
    card = text(admin.client.get(f"/annuaire/{contact.id}"))
    assert ">01 23 45 67 89</a>" in card and 'href="tel:+33123456789"' in card
    listing = text(admin.client.get("/annuaire?q=dupre"))
    assert "01 23 45 67 89" in listing and "+33123456789<" not in listing
    services = text(admin.client.get("/services"))
    assert "01 00 00 01 01" in services and ">+33100000101<" not in services


def test_ui2_search_ignores_case_and_accents(admin, ids):
    post(admin, "/annuaire/nouveau", {"first_name": "Hélène", "last_name": "Dupré",
                                      "site_id": str(ids["site_paris"])})
    for typed, found in (("HÉLÈNE", "Dupré"), ("helene", "Dupré"), ("INÈS", "Fournier"),
                         ("ines", "Fournier"), ("LEFEVRE", "Lefèvre"), ("chloé lef", "Lefèvre")):
        body = section(text(admin.client.get("/annuaire", query_string={"q": typed})),
                       "contact-results")
        assert found in body, typed


def test_ui2_search_by_any_format_finds_the_number_and_nothing_else(admin, ids):
    for typed in ("01 00 00 01 07", "+33 1 00 00 01 07", "0100000107", "+33100000107",
                  "+33 (0)1 00 00 01 07", "01.00.00.01.07"):
        body = section(text(admin.client.get("/annuaire", query_string={"q": typed})),
                       "contact-results")
        assert "Lefèvre" in body, typed
        assert body.count('<th scope="row"') == 1, (typed, body)
    partial = section(text(admin.client.get("/annuaire", query_string={"q": "06 00 00 01"})),
                      "contact-results")
    assert "Dubois" in partial and "Laurent" in partial and "Petit" not in partial


def test_ui2_search_column_is_indexed_and_migration_fills_it(app, demo):
    from webapp.db import db
    from webapp.models import Contact

    indexes = {i.name: i.columns for i in db.get_indexes("contact")}
    assert any(cols == ["search"] for cols in indexes.values())
    claire = Contact.get(Contact.first_name == "Claire")
    assert claire.search.startswith("claire dubois") and "0100000101" in claire.search

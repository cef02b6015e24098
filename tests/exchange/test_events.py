"""EVT-1: the dashboard's "Évènements" block — per permission, counts from the data,
every entry leads somewhere the user may open, refreshed cheaply (ETag / 304)."""

from __future__ import annotations

import html as html_lib
import re

from tests.exchange.conftest import events_of


def test_evt1_admin_sees_every_kind_with_counts_matching_demo_data(admin):
    html = html_lib.unescape(admin.client.get("/evenements").get_data(as_text=True))
    # 1 order in preparation, 1 open ticket, 2 deployments not done (Lyon scheduled,
    # Bordeaux requested), 1 invoice to pay, 748,90 € owed vs 600 € allowed, 1 overdue.
    assert events_of(html) == {"orders": 1, "tickets": 1, "deployments": 2, "invoices": 1,
                               "credit": 1, "collection": 1}
    assert "Commandes en cours" in html and "Appels à factures" in html
    assert "Dépassement d'encours" in html and "dépassement de 148,90" in html
    assert "Recouvrement" in html and "Déploiements à venir" in html


def test_evt1_restricted_user_sees_only_what_permissions_and_scope_allow(lucas):
    html = lucas.client.get("/evenements").get_data(as_text=True)
    # tickets.access + deployments.view, scope Lyon: no billing, no orders, no Bordeaux.
    assert events_of(html) == {"tickets": 1, "deployments": 1}
    assert "Portabilité fixe" in html and "Déploiement de lien" not in html


def test_evt1_user_without_permissions_of_any_kind_sees_empty_block(make_user, new_browser,
                                                                    demo):
    b = new_browser()
    b.sign_in(make_user("superviseur@atelier-dupont.example", "calls.supervise"), demo.password)
    html = b.client.get("/").get_data(as_text=True)
    assert 'id="events"' in html and "Rien ne demande votre attention" in html


def test_evt1_every_entry_and_item_links_to_a_page_the_user_can_open(admin, lucas):
    for b in (admin, lucas):
        html = b.client.get("/evenements").get_data(as_text=True)
        links = set(re.findall(r'<a (?:class="event-head" )?href="([^"]+)"', html))
        assert len(links) >= 3
        for href in links:
            href = href.replace("&amp;", "&")
            assert b.client.get(href).status_code == 200, href


def test_evt1_dashboard_renders_block_inline_polling_every_60s_and_after_actions(admin):
    html = admin.client.get("/").get_data(as_text=True)
    assert 'id="events"' in html and 'hx-get="/evenements"' in html
    assert 'hx-trigger="every 60s, cm-events from:body"' in html
    assert events_of(html)["tickets"] == 1
    partial = admin.client.get("/", headers={"HX-Request": "true", "HX-Target": "events"})
    assert partial.get_data(as_text=True).lstrip().startswith('<section class="card events"')


def test_evt1_unchanged_block_is_a_bodiless_304_and_changes_after_staff_action(admin, staff,
                                                                               demo):
    first = admin.client.get("/evenements", headers={"HX-Request": "true",
                                                     "HX-Target": "events"})
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    again = admin.client.get("/evenements", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    url = f"/ops/comptes/{demo.account.id}"
    staff.post(url + "/commandes", {"title": "Casques sans fil", "amount": "120"},
               token_from=url)
    changed = admin.client.get("/evenements", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert events_of(changed.get_data(as_text=True))["orders"] == 2


def test_evt1_etag_differs_between_users_with_different_permissions(admin, lucas):
    assert admin.client.get("/evenements").headers["ETag"] != \
        lucas.client.get("/evenements").headers["ETag"]

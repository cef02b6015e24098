"""LINE-1 demo data and the one-click profile switch offered to the directory pages."""

from __future__ import annotations

from flask import render_template

from webapp.models import ForwardingProfile, Service, VoicemailSettings
from webapp.services import forwarding


def test_line1_demo_every_fixed_line_has_one_default_profile_idempotent(demo, db_conn):
    from webapp.services.demo import load_demo

    load_demo()  # second load: nothing duplicated
    fixed = list(Service.select().where((Service.account == demo.account)
                                        & (Service.kind == "fixed")))
    assert fixed
    for line in fixed:
        rows = list(ForwardingProfile.select().where(ForwardingProfile.service == line.id))
        assert sum(p.is_default for p in rows) == 1 and sum(p.is_active for p in rows) == 1
    claire = Service.get(Service.number == "+33100000101")
    assert {p.name for p in ForwardingProfile.select().where(
        ForwardingProfile.service == claire.id)} == {"Par défaut", "Absence"}
    assert VoicemailSettings.get(VoicemailSettings.service == claire.id).enabled
    # Hugo's backup number became the unavailability target of his default profile.
    hugo = Service.get(Service.number == "+33100000104")
    assert forwarding.active_profile(hugo).unavailable_number == "+33600000104"


def test_line1_directory_switch_partial_activates_in_one_click_and_comes_back(app, admin, ids):
    claire = Service.get_by_id(ids["fixed_paris"])
    profiles = forwarding.ensure_profiles(claire)
    with app.test_request_context():  # the partial needs only the line, profiles, a URL
        html = render_template("lines/_profile_switch.html", service=claire, profiles=profiles,
                               next_url="/annuaire", csrf_token=lambda: "x")
    assert "Par défaut — en vigueur" in html and "Forcer « Absence »" in html
    absence = next(p for p in profiles if p.name == "Absence")
    assert f'/services/{claire.id}/ligne/renvois/{absence.id}/activer' in html
    response = admin.post(f"/services/{claire.id}/ligne/renvois/{absence.id}/activer",
                          {"next": "/annuaire"}, token_from=f"/services/{claire.id}/ligne")
    assert response.status_code == 303 and response.headers["Location"] == "/annuaire"
    assert forwarding.active_profile(claire).name == "Absence"

"""SCALE-4: the queries every request runs are built once (webapp.db.Prepared) and still
answer for the values of each call, converted as peewee converts them."""

from __future__ import annotations

from tests import factories


def test_scale4_prepared_query_is_built_once_and_answers_for_each_value(tenant, db_conn):
    from webapp.db import Prepared
    from webapp.models import Site

    built = []

    def build(account, name):
        built.append(1)
        return Site.select(Site.id, Site.name).where(
            (Site.account == account) & (Site.name == name)).order_by(Site.id)

    sites = Prepared(build)
    other = factories.make_account("Autre Entreprise SAS")
    factories.make_site(other, "Nantes")

    mine = sites.rows(tenant.account.id, "Nantes")
    theirs = sites.rows(other, "Nantes")  # a model instance: the foreign key's db_value
    assert [s.id for s in mine] == [tenant.site.id]
    assert [s.name for s in theirs] == ["Nantes"] and theirs[0].id != tenant.site.id
    assert sites.first(tenant.account.id, "Lyon") is None
    assert [s.id for s in mine] == [s.id for s in build(tenant.account.id, "Nantes")]
    assert len(built) == 2  # once for the database, once above for the comparison


def test_scale4_prepared_session_user_follows_a_revoked_session(tenant, browser, db_conn):
    """The session user's query is built once, and a change of password version still ends
    the session on the next request (no cached answer)."""
    from webapp.models import User

    browser.sign_in(tenant.admin_email, tenant.password)
    assert browser.client.get("/", follow_redirects=False).status_code == 200
    User.update(auth_version=User.auth_version + 1).where(
        User.email == tenant.admin_email).execute()
    response = browser.client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/connexion" in response.headers["Location"]

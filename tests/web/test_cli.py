"""Operations interface (README): db-upgrade, demo, create-admin."""

from __future__ import annotations

from tests.conftest import link_in


def test_ops_db_upgrade_is_idempotent(app):
    result = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert result.exit_code == 0
    assert "aucune" in result.output  # the template database is already migrated


def test_ops_demo_prints_admin_email_and_is_idempotent(app, db_conn):
    from webapp.models import Account, Contact

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    contacts = Contact.select().count()
    second = runner.invoke(args=["demo", "--password", "autre mot de passe"])
    assert first.exit_code == second.exit_code == 0
    assert first.stdout.strip() == "claire.dubois@atelier-dupont.example"
    assert Account.select().count() == 1 and Contact.select().count() == contacts >= 15


def test_ops_create_admin_sends_password_link(app, smtp, run_jobs, db_conn, new_browser):
    from webapp.models import Role, User, UserRole

    result = app.test_cli_runner().invoke(
        args=["create-admin", "patron@boulangerie.example", "--company", "Boulangerie Martin"])
    assert result.exit_code == 0, result.output
    user = User.get(User.email == "patron@boulangerie.example")
    role = Role.select().join(UserRole).where(UserRole.user == user).get()
    assert role.builtin and user.account.name == "Boulangerie Martin"
    run_jobs()
    link = link_in(smtp.last("patron@boulangerie.example"))
    b = new_browser()
    b.client.get(link.replace("http://manager.test", ""))
    done = b.post("/mot-de-passe/definir", {"password": "farine et levain",
                                              "confirm": "farine et levain"})
    assert "/connexion" in done.headers["Location"]  # a Manager user continues to sign-in
    again = app.test_cli_runner().invoke(args=["create-admin", "patron@boulangerie.example"])
    assert again.exit_code != 0 and "déjà un compte" in again.output

"""SEC-2: disabling someone's 2FA or revoking their trusted browsers follows the role-change
guard (nobody acts on a user who holds rights they lack); the user is told; audited."""

from __future__ import annotations

from tests.conftest import text_of
from tests.dbdigest import digest
from tests.security.conftest import make_user, post


def _tables():
    from webapp.models import TrustedBrowser, User

    return User, TrustedBrowser


def test_sec2_access_manager_cannot_weaken_an_administrators_2fa(demo, new_browser, smtp,
                                                                 db_conn):
    from webapp.models import TFA_ACTIVE, AuditEvent, TrustedBrowser, User

    claire = new_browser()
    claire.sign_in(demo.admin_email, demo.password, trust=True)
    admin = User.get(User.email == demo.admin_email)
    browser = TrustedBrowser.get(TrustedBrowser.user == admin.id)
    make_user(demo.account, "acces@atelier-dupont.example", "Inès", "users.manage",
              "default", [], demo.password)
    attacker = new_browser()
    attacker.sign_in("acces@atelier-dupont.example", demo.password)
    smtp.clear()
    before = digest(*_tables())
    revoke = post(attacker, f"/preferences/acces/utilisateurs/{admin.id}/navigateurs/"
                            f"{browser.id}/revoquer")
    disable = post(attacker, f"/preferences/acces/utilisateurs/{admin.id}/2fa/desactiver")
    assert (revoke.status_code, disable.status_code) == (403, 403)
    assert digest(*_tables()) == before
    assert User.get_by_id(admin.id).tfa_state == TFA_ACTIVE
    kinds = [e.kind for e in AuditEvent.select().where(AuditEvent.kind.endswith("_refused"))]
    assert kinds == ["tfa.browser_revoke_refused", "tfa.disable_refused"]
    assert not smtp.messages(demo.admin_email)


def test_sec2_administrator_disables_2fa_and_the_user_is_told(demo, admin, new_browser, smtp,
                                                              run_jobs, db_conn):
    from webapp.models import TFA_DISABLED, AuditEvent, TrustedBrowser, User

    lucas_b = new_browser()
    lucas_b.sign_in(demo.user_email, demo.password, trust=True)
    lucas = User.get(User.email == demo.user_email)
    browser = TrustedBrowser.get(TrustedBrowser.user == lucas.id)
    smtp.clear()
    response = post(admin, f"/preferences/acces/utilisateurs/{lucas.id}/navigateurs/"
                           f"{browser.id}/revoquer")
    assert response.status_code == 303
    run_jobs()
    assert "navigateurs" in text_of(smtp.last(demo.user_email))
    smtp.clear()
    assert post(admin, f"/preferences/acces/utilisateurs/{lucas.id}/2fa/desactiver"
                ).status_code == 303
    run_jobs()
    assert User.get_by_id(lucas.id).tfa_state == TFA_DISABLED
    body = text_of(smtp.last(demo.user_email))
    assert "double authentification" in body and "Claire" in body
    assert AuditEvent.select().where(AuditEvent.kind == "tfa.disabled").exists()

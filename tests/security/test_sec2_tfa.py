"""SEC-2: disabling someone's 2FA or revoking their trusted browsers follows the role-change
guard (nobody acts on a user who holds rights they lack); the user is told; audited."""

from __future__ import annotations

from tests.conftest import text_of
from tests.dbdigest import digest
from tests.security.conftest import contact_form, make_user, post


def _trusted(new_browser, email: str, password: str):
    """`email` signs in on a browser they trust: (the user, that TrustedBrowser row)."""
    from webapp.models import TrustedBrowser, User

    new_browser().sign_in(email, password, trust=True)
    user = User.get(User.email == email)
    return user, TrustedBrowser.get(TrustedBrowser.user == user.id)


def _access_manager(demo, new_browser):
    """Inès, who may manage user access on the default site only, signed in."""
    make_user(demo.account, "acces@atelier-dupont.example", "Inès", "users.manage",
              "default", [], demo.password)
    b = new_browser()
    b.sign_in("acces@atelier-dupont.example", demo.password)
    return b


def _tables():
    from webapp.models import TrustedBrowser, User

    return User, TrustedBrowser


def test_sec2_access_manager_cannot_weaken_an_administrators_2fa(demo, new_browser, smtp,
                                                                 db_conn):
    from webapp.models import TFA_ACTIVE, AuditEvent, User

    admin, browser = _trusted(new_browser, demo.admin_email, demo.password)
    attacker = _access_manager(demo, new_browser)
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
    from webapp.models import TFA_DISABLED, AuditEvent, User

    lucas, browser = _trusted(new_browser, demo.user_email, demo.password)
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


def test_sec2_the_guard_answers_403_on_every_action_on_a_wider_user(
        demo, new_browser, second_admin, smtp, db_conn):
    """"Gérer les accès utilisateurs" alone, against Lucas (who holds services.manage and
    more): changing his roles, removing his access, revoking his browser, disabling his
    2FA — and, with the directory right too, changing an administrator's sign-in address —
    each answers 403 with the reason in French, and nothing is written."""
    import html

    from webapp.models import (
        Contact,
        EmailChange,
        Licence,
        PasswordToken,
        Role,
        TrustedBrowser,
        User,
        UserRole,
    )
    from webapp.services.roles import WIDER_RIGHTS

    lucas, browser = _trusted(new_browser, demo.user_email, demo.password)
    ines = _access_manager(demo, new_browser)
    make_user(demo.account, "annuaire@atelier-dupont.example", "Jules",
              "users.manage services.manage sites.access", "all", [], demo.password)
    jules = new_browser()
    jules.sign_in("annuaire@atelier-dupont.example", demo.password)
    lyon_role = Role.get((Role.account == demo.account) & (Role.name == "Responsable Lyon"))
    tables = (User, UserRole, Licence, TrustedBrowser, Contact, EmailChange, PasswordToken)
    smtp.clear()
    before = digest(*tables)
    users = "/preferences/acces/utilisateurs"
    attempts = {
        "roles": post(ines, f"{users}/{lucas.id}/roles", {"roles": [str(lyon_role.id)]}),
        "remove": post(ines, f"{users}/{lucas.id}/retirer", {"confirm": "1"}),
        "browser": post(ines, f"{users}/{lucas.id}/navigateurs/{browser.id}/revoquer"),
        "2fa": post(ines, f"{users}/{lucas.id}/2fa/desactiver"),
    }
    for what, response in attempts.items():
        assert response.status_code == 403, (what, response.status_code)
        assert WIDER_RIGHTS in html.unescape(response.get_data(as_text=True)), what
    address = post(jules, f"/annuaire/{second_admin.contact_id}/modifier",
                   contact_form(second_admin.contact, email="pirate@evil.example"))
    assert address.status_code == 403
    assert "seul un administrateur peut modifier son adresse e-mail" in html.unescape(
        address.get_data(as_text=True))
    assert digest(*tables) == before
    assert not smtp.messages(demo.user_email) and not smtp.messages("pirate@evil.example")

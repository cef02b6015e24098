"""UI-4: a new user gets an invitation e-mail of its own (Bienvenue, valid 72 h), not the
password-reset e-mail."""

from __future__ import annotations

import datetime as dt

from tests.conftest import link_in, text_of
from tests.directory.conftest import post


def test_ui4_new_user_gets_welcome_invitation_valid_72_hours(admin, demo, smtp, run_jobs,
                                                           new_browser, time_machine):
    from webapp.models import PasswordToken, Role, User

    role = Role.get(Role.name == "Responsable Lyon")
    email = "chloe.lefevre@atelier-dupont.example"
    response = post(admin, "/preferences/acces/utilisateurs/nouveau",
                    {"email": email, "roles": [str(role.id)]})
    assert response.status_code == 303
    smtp.clear()
    run_jobs()
    mail = smtp.last(email)
    body = text_of(mail)
    assert "Bienvenue sur Communications Manager" in body and "72 heures" in body
    assert "vous a ouvert un accès au Manager de" in body
    assert "Si vous n'avez rien demandé" not in body and "mot de passe actuel" not in body
    user = User.get(User.email == email)
    token = PasswordToken.get(PasswordToken.user == user)
    assert dt.timedelta(hours=71) < token.expires_at - token.created_at <= dt.timedelta(hours=72)
    # still valid two days later
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(hours=48))
    path = link_in(mail).split("manager.test", 1)[1]
    page = new_browser().client.get(path, follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)

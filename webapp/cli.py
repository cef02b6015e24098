"""Operations commands (README): db-upgrade, demo, create-admin."""

from __future__ import annotations

import click
from flask import Flask, current_app

from webapp.db import db


def register(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply pending migrations."""
        from webapp.migrate import upgrade

        applied = upgrade(db.obj)
        click.echo(f"Migrations appliquées : {', '.join(applied) if applied else 'aucune'}")
        # Backfill without a migration: fixed lines created before `create_service` get
        # their default forwarding profile here, never on a GET (ARCHITECTURE §5).
        from webapp.services.forwarding import ensure_account_profiles

        with db.connection_context():
            created = ensure_account_profiles()
        if created:
            click.echo(f"Profils de renvoi par défaut créés : {created}")

    @app.cli.command("demo")
    @click.option("--password", default=None, help="Mot de passe des comptes de démonstration.")
    def demo(password: str | None) -> None:
        """Load the French demo company (idempotent); prints the administrator's e-mail."""
        from webapp.services.demo import DEMO_PASSWORD, load_demo

        with db.connection_context():
            result = load_demo(password or DEMO_PASSWORD)
        click.echo(result.admin_email)
        from webapp.services.exchange_demo import DEMO_STAFF_EMAIL

        # stdout carries only the administrator's e-mail (scripts read it).
        click.echo(f"Back-office opérateur : /ops/connexion — {DEMO_STAFF_EMAIL} "
                   f"(même mot de passe de démonstration)", err=True)

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--company", default="Nouvelle entreprise", help="Nom de l'entreprise.")
    @click.option("--first-name", default="Administrateur")
    @click.option("--last-name", default="")
    def create_admin(email: str, company: str, first_name: str, last_name: str) -> None:
        """First administrator of a new account; e-mails the password link."""
        from webapp.models import User
        from webapp.services.accounts import create_account
        from webapp.services.accounts import create_admin as make_admin
        from webapp.services.auth import send_password_link

        settings = current_app.extensions["cm_settings"]
        with db.connection_context():
            if User.get_or_none(User.email == email.strip().lower()):
                raise click.ClickException("Cette adresse a déjà un compte.")
            account = create_account(company)
            make_admin(account, email, first_name, last_name)
            send_password_link(email, settings=settings)
        click.echo(f"Compte créé pour {company} ; lien de mot de passe envoyé à {email}.")

    @app.cli.command("create-staff")
    @click.argument("email")
    @click.option("--first-name", default="Opérateur")
    @click.option("--last-name", default="")
    @click.option("--reset", is_flag=True, help="Nouveau mot de passe pour un compte existant.")
    def create_staff(email: str, first_name: str, last_name: str, reset: bool) -> None:
        """Operator back-office account (OPS-1); prints a generated password once."""
        import secrets

        from webapp.models import StaffUser
        from webapp.services import staff as staff_service

        with db.connection_context():
            existing = StaffUser.get_or_none(StaffUser.email == staff_service.normalise(email))
            if existing and not reset:
                raise click.ClickException("Ce compte existe déjà (--reset pour le réinitialiser).")
            if reset and not existing:
                raise click.ClickException("Aucun compte du back-office avec cette adresse.")
            password = secrets.token_urlsafe(12)
            if existing:
                staff_service.set_staff_password(existing, password)
            else:
                staff_service.create_staff(email, first_name, last_name, password)
        click.echo(f"Back-office : {email} — mot de passe (à changer de main en main, "
                   f"affiché une seule fois) : {password}")

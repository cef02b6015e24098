"""Operations commands (README): db-upgrade, demo, create-admin, create-staff, shards,
shard-move."""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from peewee import fn

from webapp.db import db
from webapp.migrate import upgrade
from webapp.models import Account, StaffUser, User
from webapp.redis_conn import engine_redis_for
from webapp.services import staff as staff_service
from webapp.services.accounts import create_account, set_transfer_policy
from webapp.services.accounts import create_admin as make_admin
from webapp.services.actor import Actor
from webapp.services.demo import DEMO_PASSWORD, load_demo
from webapp.services.exchange_demo import DEMO_STAFF_EMAIL
from webapp.services.forwarding import ensure_account_profiles
from webapp.services.password_links import send_password_link
from webapp.services.shards import MoveError, move_account


def register(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply pending migrations."""
        applied = upgrade(db.obj)
        click.echo(f"Migrations appliquées : {', '.join(applied) if applied else 'aucune'}")
        # Backfill without a migration: fixed lines created before `create_service` get
        # their default forwarding profile here, never on a GET (docs/architecture.md §5).

        with db.connection_context():
            created = ensure_account_profiles()
        if created:
            click.echo(f"Profils de renvoi par défaut créés : {created}")

    @app.cli.command("demo")
    @click.option("--password", default=None, help="Mot de passe des comptes de démonstration.")
    def demo(password: str | None) -> None:
        """Load the French demo company (idempotent); prints the administrator's e-mail."""
        with db.connection_context():
            result = load_demo(password or DEMO_PASSWORD)
        click.echo(result.admin_email)

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
        settings = current_app.extensions["cm_settings"]
        with db.connection_context():
            if User.get_or_none(User.email == email.strip().lower()):
                raise click.ClickException("Cette adresse a déjà un compte.")
            account = create_account(company)
            make_admin(account, email, first_name, last_name)
            send_password_link(email, settings=settings)
        click.echo(f"Compte créé pour {company} ; lien de mot de passe envoyé à {email}.")

    @app.cli.command("shards")
    def shards_list() -> None:
        """Accounts per engine shard (SCALE-1)."""
        settings = current_app.extensions["cm_settings"]
        with db.connection_context():
            counts = dict(Account.select(Account.shard, fn.COUNT(Account.id))
                          .group_by(Account.shard).tuples())
        for shard in sorted(set(counts) | set(range(settings.ENGINE_SHARDS))):
            flag = "" if shard < settings.ENGINE_SHARDS else " (hors ENGINE_SHARDS)"
            click.echo(f"shard {shard} : {counts.get(shard, 0)} compte(s){flag}")

    @app.cli.command("shard-move")
    @click.argument("account_id", type=int)
    @click.argument("shard", type=int)
    @click.option("--timeout", default=60.0, show_default=True,
                  help="Secondes d'attente de la fin des appels en cours sur l'ancien shard.")
    def shard_move(account_id: int, shard: int, timeout: float) -> None:
        """Move an account to another engine shard: drain, move, reload both (SCALE-1)."""
        settings = current_app.extensions["cm_settings"]
        with db.connection_context():
            account = Account.get_or_none(Account.id == account_id)
            if account is None:
                raise click.ClickException(f"Compte {account_id} introuvable.")
            try:
                report = move_account(account, shard, shards=settings.ENGINE_SHARDS,
                                      engine_conn=engine_redis_for(settings.ENGINE_REDIS_URL),
                                      engine_url=settings.ENGINE_REDIS_URL, timeout_s=timeout)
            except MoveError as exc:
                raise click.ClickException(str(exc)) from exc
        if report.source == report.target:
            click.echo(f"Le compte {account_id} est déjà sur le shard {shard}.")
            return
        click.echo(f"Compte {account_id} déplacé du shard {report.source} vers le shard "
                   f"{report.target} (attente {report.waited_s:.1f} s, "
                   f"{len(report.lines)} ligne(s) connectée(s) reportée(s)).")

    @app.cli.command("transfer-policy")
    @click.argument("account_id", type=int)
    @click.argument("policy", type=click.Choice(["national", "anywhere"]))
    def transfer_policy(account_id: int, policy: str) -> None:
        """SEC-8: where the switchboard of an account may transfer calls: "national" (its
        own and directory numbers, French numbers outside premium ranges; the default) or
        "anywhere" (any valid number, abroad and premium included)."""
        with db.connection_context():
            account = Account.get_or_none(Account.id == account_id)
            if account is None:
                raise click.ClickException("Aucun compte avec cet identifiant.")
            set_transfer_policy(account, policy, Actor.system())
        click.echo(f"Compte {account_id} : transferts du standard « {policy} ».")

    @app.cli.command("create-staff")
    @click.argument("email")
    @click.option("--first-name", default="Opérateur")
    @click.option("--last-name", default="")
    @click.option("--reset", is_flag=True, help="Nouveau mot de passe pour un compte existant.")
    def create_staff(email: str, first_name: str, last_name: str, reset: bool) -> None:
        """Operator back-office account (OPS-1); prints a generated password once."""
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

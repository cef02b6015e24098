"""Creating tenants: an account with its default site and built-in roles."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from webapp.db import db
from webapp.i18n import _
from webapp.models import Account, Contact, Licence, Role, Site, User, UserRole
from webapp.permissions import ADMIN_ROLE_NAME, PERMISSIONS, SCOPE_ALL
from webapp.services import audit
from webapp.services.engine_notify import publish_config_reload
from webapp.services.errors import FormError
from webapp.services.shards import assign_shard
from webapp.settings import load

DEFAULT_SITE_NAME = "Site par défaut"  # i18n-exempt: stored data, renamable
# i18n-exempt: end


def create_account(name: str, timezone: str = "Europe/Paris", shards: int | None = None) -> Account:
    """`shards`: ENGINE_SHARDS (read from the environment when not given, SCALE-1)."""
    if shards is None:
        shards = load().ENGINE_SHARDS
    with db.atomic():
        account = Account.create(name=name, timezone=timezone, shard=assign_shard(shards))
        Site.create(account=account, name=DEFAULT_SITE_NAME, is_default=True)
        Role.create(account=account, name=ADMIN_ROLE_NAME, builtin=True,
                    permissions=" ".join(PERMISSIONS), scope=SCOPE_ALL)
    return account


def default_site(account: Account | int) -> Site:
    return Site.get((Site.account == account) & Site.is_default)


def admin_role(account: Account | int) -> Role:
    return Role.get((Role.account == account) & Role.builtin)


def create_admin(
    account: Account, email: str, first_name: str, last_name: str
) -> User:
    """A contact with a Manager licence, a user and the Administrateur role (no password yet)."""
    address = email.strip().lower()
    with db.atomic():
        contact = Contact.create(account=account, site=default_site(account),
                                 first_name=first_name, last_name=last_name, email=address)
        Licence.create(account=account, contact=contact, product="manager")
        user = User.create(account=account, contact=contact, email=address)
        UserRole.create(user=user, role=admin_role(account))
    audit.record("user.created", account=account, user=user, role=ADMIN_ROLE_NAME)
    return user


# --- the account's time zone (SCALE-3) ----------------------------------------------------

# Offered first in the pickers; any IANA name is accepted.
SUGGESTED_TIMEZONES = (
    "Europe/Paris", "America/Martinique", "America/Guadeloupe", "America/Cayenne",
    "Indian/Reunion", "Indian/Mayotte", "Pacific/Noumea", "Pacific/Tahiti",
    "America/Miquelon", "Europe/Brussels", "Europe/Zurich", "Europe/Luxembourg",
    "America/Montreal", "Africa/Casablanca", "UTC",
)


def owned(model, row_id: int | None, account: Account):
    """The row `row_id` of `model` when it is `account`'s; None when no id was given or the
    row is another account's (the caller refuses that)."""
    if not row_id:
        return None
    return model.get_or_none((model.id == row_id) & (model.account == account))


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_timezone(raw: str) -> str:
    """The IANA name as zoneinfo knows it (no file paths, no abbreviations); FormError on
    `timezone` (the typed value kept) for any other text."""
    name = (raw or "").strip()
    if name not in _zones():
        raise FormError({"timezone": _("Choisissez un fuseau horaire IANA, par exemple "
                                       "Europe/Paris, America/Martinique ou Indian/Reunion.")},
                        {"timezone": raw})
    return name


def set_timezone(account: Account, raw: str, actor) -> bool | None:
    """Change the account's time zone: its time rules, statistics, history, usage months,
    e-mails and dates on screen follow it. Refuses a name zoneinfo does not know
    (FormError on `timezone`). Returns None when nothing changed, else whether the
    engine of the account's shard was told (`config.reload`: the time rules moved)."""
    name = valid_timezone(raw)
    before = account.timezone
    if name == before:
        return None
    with db.atomic():
        Account.update(timezone=name).where(Account.id == account.id).execute()
        audit.record("account.timezone.updated", account=account.id, actor=actor,
                     staff=getattr(actor.staff, "id", None), before=before,
                     after=name)
    account.timezone = name
    return publish_config_reload(actor.engine_url, account.shard)


# --- where the switchboard may transfer calls (SEC-8) ---------------------------------------

TRANSFER_POLICIES = {
    "national": _("Numéros du compte et de l'annuaire, numéros français hors surtaxés "
                  "(par défaut)"),
    "anywhere": _("Tous les numéros valides, y compris l'étranger et les numéros surtaxés"),
}


def transfer_policy(account: Account) -> str:
    return "anywhere" if account.transfer_anywhere else "national"


def set_transfer_policy(account: Account, raw: str, actor) -> bool:
    """SEC-8 "setting to allow more": the account's switchboard transfers to `national`
    numbers only (the default) or `anywhere`. Set by the operator (back-office or
    `flask transfer-policy`), audited with who did it. Returns whether it changed."""
    if raw not in TRANSFER_POLICIES:
        raise FormError({"policy": _("Choisissez l'une des deux règles proposées.")},
                        {"policy": raw})
    before = transfer_policy(account)
    if raw == before:
        return False
    with db.atomic():
        Account.update(transfer_anywhere=raw == "anywhere").where(
            Account.id == account.id).execute()
        audit.record("account.transfer_policy", account=account.id, actor=actor,
                     staff=getattr(actor.staff, "id", None), before=before,
                     after=raw)
    account.transfer_anywhere = raw == "anywhere"
    return True

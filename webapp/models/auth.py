"""Credentials, roles and 2FA state (ACC, TFA, ROLE)."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from webapp.models.base import BaseModel, link_table, unique, utcnow
from webapp.models.core import Account, Contact, Site

TFA_INACTIVE = "inactive"  # never activated: the 2FA screen offers "Activer"
TFA_ACTIVE = "active"
TFA_DISABLED = "disabled"  # switched off by an administrator (TFA-5)


class User(BaseModel):
    """A contact who can sign in (ACC-1). The e-mail is the contact's, lower-cased."""

    account = ForeignKeyField(Account, backref="users", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, unique=True, backref="user_rows", on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255, null=True)
    password_set_at = DateTimeField(null=True)
    is_active = BooleanField(default=True)
    tfa_state = CharField(max_length=10, default=TFA_INACTIVE)
    # Bumped to end every session of the user at once (logout everywhere,
    # password change, access removed, roles changed are re-read anyway).
    auth_version = IntegerField(default=1)
    language = CharField(max_length=5, null=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    # The Flask-Login user protocol, without importing Flask here.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class Role(BaseModel):
    """A named set of permissions with a site scope (ROLE-1..3)."""

    account = ForeignKeyField(Account, backref="roles", on_delete="CASCADE")
    name = CharField(max_length=80)
    builtin = BooleanField(default=False)  # "Administrateur": every permission, not editable
    permissions = TextField(default="")  # space-separated permission codes
    scope = CharField(max_length=10, default="default")  # all | sites | default
    created_at = DateTimeField(default=utcnow)

    Meta = unique("account", "name")

    @property
    def permission_set(self) -> frozenset[str]:
        return frozenset(self.permissions.split())


RoleSite = link_table(Role, Site)
UserRole = link_table(User, Role)


class TrustedBrowserFields(BaseModel):
    """Columns shared by customers' and operator staff's trusted browsers (no table)."""

    token_hash = CharField(max_length=64, unique=True)
    browser = CharField(max_length=120)
    ip = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)


class TrustedBrowser(TrustedBrowserFields):
    """TFA-3: a browser trusted for 7 days; only the token's hash is stored."""

    user = ForeignKeyField(User, backref="trusted_browsers", on_delete="CASCADE")


class CodeFields(BaseModel):
    """Columns shared by customers' and operator staff's 2FA codes (no table)."""

    attempt = CharField(max_length=64, index=True)
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    failed_attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)
    invalidated_at = DateTimeField(null=True)


class OneTimeCode(CodeFields):
    """TFA-2: a 6-digit code bound to one sign-in attempt, stored as an HMAC."""

    user = ForeignKeyField(User, backref="codes", on_delete="CASCADE")


class PasswordToken(BaseModel):
    """ACC-2: single-use link, 1 h, superseded by a newer one."""

    user = ForeignKeyField(User, backref="password_tokens", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    superseded_at = DateTimeField(null=True)


class EmailChange(BaseModel):
    """SEC-1: a new sign-in address, used only once the link sent to it is followed."""

    user = ForeignKeyField(User, backref="email_changes", on_delete="CASCADE")
    new_email = CharField(max_length=254)
    token_hash = CharField(max_length=64, unique=True)
    requested_by = CharField(max_length=40, null=True)  # user id of whoever asked
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    superseded_at = DateTimeField(null=True)

"""001: tenancy core, credentials, roles, 2FA, password tokens, audit log, e-mail journal."""


from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the tables of the foundation."""

    @migrator.create_model
    class Account(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=200)
        timezone = pw.CharField(default='Europe/Paris', max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "account"

    @migrator.create_model
    class AuditEvent(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], null=True, on_delete='CASCADE')
        user_id = pw.CharField(max_length=40, null=True)
        kind = pw.CharField(index=True, max_length=60)
        detail = pw.TextField(default='{}')
        ip = pw.CharField(max_length=64, null=True)
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "audit_event"

    @migrator.create_model
    class Site(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        parent = pw.ForeignKeyField(column_name='parent_id', field='id', model='self', null=True, on_delete='RESTRICT')
        name = pw.CharField(max_length=120)
        is_default = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "site"
            indexes = [(('account', 'parent', 'name'), False)]

    @migrator.create_model
    class Contact(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], null=True, on_delete='SET NULL')
        first_name = pw.CharField(max_length=100)
        last_name = pw.CharField(max_length=100)
        email = pw.CharField(max_length=254, null=True)
        phone_work = pw.CharField(max_length=20, null=True)
        phone_mobile = pw.CharField(max_length=20, null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "contact"
            indexes = [(('account', 'email'), False), (('account', 'last_name', 'first_name'), False)]

    @migrator.create_model
    class Licence(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        contact = pw.ForeignKeyField(column_name='contact_id', field='id', model=migrator.orm['contact'], on_delete='CASCADE')
        product = pw.CharField(max_length=20)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "licence"
            indexes = [(('contact', 'product'), True)]

    @migrator.create_model
    class User(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        contact = pw.ForeignKeyField(column_name='contact_id', field='id', model=migrator.orm['contact'], on_delete='CASCADE', unique=True)
        email = pw.CharField(max_length=254, unique=True)
        password_hash = pw.CharField(max_length=255, null=True)
        password_set_at = pw.DateTimeField(null=True)
        is_active = pw.BooleanField(default=True)
        tfa_state = pw.CharField(default='inactive', max_length=10)
        auth_version = pw.IntegerField(default=1)
        language = pw.CharField(max_length=5, null=True)
        created_at = pw.DateTimeField()
        last_login_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "user"

    @migrator.create_model
    class OneTimeCode(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        attempt = pw.CharField(index=True, max_length=64)
        code_hash = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        failed_attempts = pw.IntegerField(default=0)
        used_at = pw.DateTimeField(null=True)
        invalidated_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "one_time_code"

    @migrator.create_model
    class OutboundEmail(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], null=True, on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        to_addr = pw.CharField(max_length=254)
        subject = pw.CharField(max_length=200)
        text_body = pw.TextField(null=True)
        html_body = pw.TextField(null=True)
        status = pw.CharField(default='queued', index=True, max_length=10)
        attempts = pw.IntegerField(default=0)
        last_error = pw.CharField(max_length=300, null=True)
        created_at = pw.DateTimeField()
        sent_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "outbound_email"

    @migrator.create_model
    class PasswordToken(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        token_hash = pw.CharField(max_length=64, unique=True)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        used_at = pw.DateTimeField(null=True)
        superseded_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "password_token"

    @migrator.create_model
    class Role(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        name = pw.CharField(max_length=80)
        builtin = pw.BooleanField(default=False)
        permissions = pw.TextField(default='')
        scope = pw.CharField(default='default', max_length=10)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "role"
            indexes = [(('account', 'name'), True)]

    @migrator.create_model
    class RoleSite(pw.Model):
        id = pw.AutoField()
        role = pw.ForeignKeyField(column_name='role_id', field='id', model=migrator.orm['role'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')

        class Meta:
            table_name = "role_site"
            indexes = [(('role', 'site'), True)]

    @migrator.create_model
    class Service(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=10)
        number = pw.CharField(max_length=20, unique=True)
        extension = pw.CharField(max_length=10, null=True)
        label = pw.CharField(default='', max_length=120)
        holder = pw.ForeignKeyField(column_name='holder_id', field='id', model=migrator.orm['contact'], null=True, on_delete='SET NULL')
        accept_queue_calls = pw.BooleanField(default=True)
        backup_number = pw.CharField(max_length=20, null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "service"
            indexes = [(('account', 'kind'), False)]

    @migrator.create_model
    class ServiceContact(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        contact = pw.ForeignKeyField(column_name='contact_id', field='id', model=migrator.orm['contact'], on_delete='CASCADE')

        class Meta:
            table_name = "service_contact"
            indexes = [(('service', 'contact'), True)]

    @migrator.create_model
    class TrustedBrowser(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        token_hash = pw.CharField(max_length=64, unique=True)
        browser = pw.CharField(max_length=120)
        ip = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        last_used_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "trusted_browser"

    @migrator.create_model
    class UserRole(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        role = pw.ForeignKeyField(column_name='role_id', field='id', model=migrator.orm['role'], on_delete='CASCADE')

        class Meta:
            table_name = "user_role"
            indexes = [(('user', 'role'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('user_role')

    migrator.remove_model('trusted_browser')

    migrator.remove_model('service_contact')

    migrator.remove_model('service')

    migrator.remove_model('role_site')

    migrator.remove_model('role')

    migrator.remove_model('password_token')

    migrator.remove_model('outbound_email')

    migrator.remove_model('one_time_code')

    migrator.remove_model('user')

    migrator.remove_model('licence')

    migrator.remove_model('contact')

    migrator.remove_model('site')

    migrator.remove_model('audit_event')

    migrator.remove_model('account')

"""007: confirmed sign-in address changes (SEC-1), the account's switchboard transfer
setting (SEC-8)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class EmailChange(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        new_email = pw.CharField(max_length=254)
        token_hash = pw.CharField(max_length=64, unique=True)
        requested_by = pw.CharField(max_length=40, null=True)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        used_at = pw.DateTimeField(null=True)
        superseded_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "email_change"

    migrator.add_fields('account', transfer_anywhere=pw.BooleanField(default=False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('account', 'transfer_anywhere')
    migrator.remove_model("email_change")

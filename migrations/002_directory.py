"""002: desk phones (equipment) and Keyyo Phone credentials (DIR-2, DIR-4, SITE-*)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the directory area's own tables only."""

    @migrator.create_model
    class Equipment(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='RESTRICT')
        model = pw.CharField(max_length=60)
        mac = pw.CharField(max_length=17, unique=True)
        line = pw.ForeignKeyField(column_name='line_id', field='id', model=migrator.orm['service'], null=True, on_delete='SET NULL')
        label = pw.CharField(default='', max_length=120)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "equipment"
            indexes = [(('account', 'site'), False)]

    @migrator.create_model
    class SoftphoneCredential(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        login = pw.CharField(max_length=60, unique=True)
        secret_hash = pw.CharField(max_length=64)
        created_by = pw.CharField(max_length=40, null=True)
        created_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "softphone_credential"
            indexes = [(('service', 'revoked_at'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('softphone_credential')
    migrator.remove_model('equipment')

"""006: directory folders and contact cards (DIR-5), blacklist (LINE-4), call history (LINE-5)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Only the folder and history tables and the new `contact` columns."""

    @migrator.create_model
    class Folder(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        name = pw.CharField(max_length=80)
        external = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "folder"
            indexes = [(('account', 'name'), True)]

    migrator.add_fields(
        'contact',
        folder=pw.ForeignKeyField(column_name='folder_id', field='id', model=migrator.orm['folder'], null=True, on_delete='SET NULL'),
        company=pw.CharField(max_length=120, null=True),
        job_title=pw.CharField(max_length=120, null=True),
        address=pw.TextField(null=True),
        phone_home=pw.CharField(max_length=20, null=True),
        photo=pw.CharField(max_length=64, null=True),
    )

    @migrator.create_model
    class CallRecord(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        entry_id = pw.CharField(max_length=40, unique=True)
        direction = pw.CharField(max_length=3)
        peer = pw.CharField(max_length=20)
        status = pw.CharField(max_length=10)
        started_at = pw.DateTimeField()
        answered_at = pw.DateTimeField(null=True)
        ended_at = pw.DateTimeField()
        duration_s = pw.IntegerField(default=0)
        call_ref = pw.CharField(default='', max_length=64)

        class Meta:
            table_name = "call_record"
            indexes = [(('service', 'started_at'), False)]

    @migrator.create_model
    class BlockedNumber(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        number = pw.CharField(max_length=20)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "blocked_number"
            indexes = [(('service', 'number'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('blocked_number')
    migrator.remove_model('call_record')
    migrator.remove_fields('contact', 'folder', 'company', 'job_title', 'address', 'phone_home',
                           'photo')
    migrator.remove_model('folder')

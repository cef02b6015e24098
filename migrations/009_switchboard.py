"""009: switchboard and breaks (Q-13, SWB-4..8): queue thresholds and automatic pause, break
reasons, callback marks, weekly-report subscriptions, pause/caller/profile in the call log."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'welcome_profile',
        sla_s=pw.IntegerField(default=20),
        autopause=pw.IntegerField(default=0),
    )
    migrator.add_fields(
        'call_log_entry',
        paused_ms=pw.IntegerField(null=True),
        caller=pw.CharField(max_length=20, null=True),
        profile=pw.CharField(max_length=40, null=True),
    )
    # "line.unpaused" (13 characters) is a log type now
    migrator.change_fields('call_log_entry', type=pw.CharField(max_length=16))

    @migrator.create_model
    class PauseReason(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        code = pw.CharField(max_length=24)
        label = pw.CharField(max_length=40)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "pause_reason"
            indexes = [(('account', 'code'), True), (('account', 'label'), True)]

    @migrator.create_model
    class CallbackMark(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        call = pw.CharField(max_length=64)
        by = pw.ForeignKeyField(column_name='by_id', field='id', model=migrator.orm['contact'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "callback_mark"
            indexes = [(('account', 'call'), True)]

    @migrator.create_model
    class StatsSubscription(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        contact = pw.ForeignKeyField(column_name='contact_id', field='id', model=migrator.orm['contact'], on_delete='CASCADE')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "stats_subscription"
            indexes = [(('service', 'contact'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('stats_subscription')
    migrator.remove_model('callback_mark')
    migrator.remove_model('pause_reason')
    migrator.change_fields('call_log_entry', type=pw.CharField(max_length=12))
    migrator.remove_fields('call_log_entry', 'paused_ms', 'caller', 'profile')
    migrator.remove_fields('welcome_profile', 'sla_s', 'autopause')

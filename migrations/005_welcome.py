"""005: welcome numbers — routing profiles, lines, menu keys, time rules (WN-1..4) and the
call history of the engine's log (SWB-3). Only the welcome-number tables."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class WelcomeProfile(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        key = pw.CharField(max_length=40)
        name = pw.CharField(max_length=60)
        kind = pw.CharField(max_length=12)
        is_entry = pw.BooleanField(default=False)
        caller_preanswer = pw.ForeignKeyField(column_name='caller_preanswer_id', field='id', model=migrator.orm['audio_file'], null=True, on_delete='RESTRICT', backref='+')
        music = pw.ForeignKeyField(column_name='music_id', field='id', model=migrator.orm['audio_file'], null=True, on_delete='RESTRICT', backref='+')
        callee_preanswer = pw.ForeignKeyField(column_name='callee_preanswer_id', field='id', model=migrator.orm['audio_file'], null=True, on_delete='RESTRICT', backref='+')
        confirm = pw.BooleanField(default=False)
        size = pw.IntegerField(default=5)
        rest_s = pw.IntegerField(default=10)
        ring_s = pw.IntegerField(default=20)
        mode = pw.CharField(default='inactivity', max_length=12)
        media = pw.ForeignKeyField(column_name='media_id', field='id', model=migrator.orm['audio_file'], null=True, on_delete='RESTRICT', backref='+')
        timeout_s = pw.IntegerField(default=10)
        then = pw.ForeignKeyField(column_name='then_id', field='id', model='self', null=True, on_delete='SET NULL', backref='+')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "welcome_profile"
            indexes = [(('service', 'key'), True), (('service', 'name'), True)]

    @migrator.create_model
    class WelcomeLine(pw.Model):
        id = pw.AutoField()
        profile = pw.ForeignKeyField(column_name='profile_id', field='id', model=migrator.orm['welcome_profile'], on_delete='CASCADE')
        line = pw.ForeignKeyField(column_name='line_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        priority = pw.IntegerField(default=1)
        weight = pw.IntegerField(default=1)
        position = pw.IntegerField(default=0)

        class Meta:
            table_name = "welcome_line"
            indexes = [(('profile', 'line'), True)]

    @migrator.create_model
    class WelcomeMenuKey(pw.Model):
        id = pw.AutoField()
        profile = pw.ForeignKeyField(column_name='profile_id', field='id', model=migrator.orm['welcome_profile'], on_delete='CASCADE')
        key = pw.CharField(max_length=1)
        target = pw.ForeignKeyField(column_name='target_id', field='id', model=migrator.orm['welcome_profile'], on_delete='CASCADE', backref='+')

        class Meta:
            table_name = "welcome_menu_key"
            indexes = [(('profile', 'key'), True)]

    @migrator.create_model
    class WelcomeTimeRule(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        profile = pw.ForeignKeyField(column_name='profile_id', field='id', model=migrator.orm['welcome_profile'], on_delete='CASCADE')
        label = pw.CharField(default='', max_length=60)
        date = pw.DateField(null=True)
        days = pw.CharField(max_length=20, null=True)
        start = pw.CharField(max_length=5, null=True)
        end = pw.CharField(max_length=5, null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "welcome_time_rule"

    @migrator.create_model
    class CallLogEntry(pw.Model):
        id = pw.AutoField()
        shard = pw.IntegerField(default=0)
        entry_id = pw.CharField(max_length=32)
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], null=True, on_delete='CASCADE', backref='+')
        number = pw.CharField(max_length=20)
        call = pw.CharField(max_length=64)
        type = pw.CharField(max_length=12)
        line = pw.CharField(max_length=20, null=True)
        result = pw.CharField(max_length=12, null=True)
        reason = pw.CharField(max_length=20, null=True)
        to = pw.CharField(max_length=20, null=True)
        wait_ms = pw.IntegerField(null=True)
        ring_ms = pw.IntegerField(null=True)
        talk_ms = pw.IntegerField(null=True)
        ts_ms = pw.BigIntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "call_log_entry"
            indexes = [(('shard', 'entry_id'), True), (('number', 'ts_ms'), False),
                       (('account', 'ts_ms'), False)]

    # WN-1: one entry profile per welcome number, guaranteed by the database.
    migrator.sql("CREATE UNIQUE INDEX welcome_profile_one_entry "
                 "ON welcome_profile (service_id) WHERE is_entry")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('call_log_entry')
    migrator.remove_model('welcome_time_rule')
    migrator.remove_model('welcome_menu_key')
    migrator.remove_model('welcome_line')
    migrator.remove_model('welcome_profile')

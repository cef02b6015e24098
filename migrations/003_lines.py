"""003: line settings — forwarding profiles, voicemail, audio library (LINE-1, LINE-2, WN-5)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the line tables (Service.accept_queue_calls/backup_number exist since 001)."""

    @migrator.create_model
    class AudioFile(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        name = pw.CharField(max_length=120)
        kind = pw.CharField(max_length=20)
        format = pw.CharField(max_length=4)
        storage_name = pw.CharField(max_length=64, unique=True)
        size_bytes = pw.IntegerField()
        duration_ms = pw.IntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "audio_file"
            indexes = [(('account', 'name'), False)]

    @migrator.create_model
    class ForwardingProfile(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE')
        name = pw.CharField(max_length=60)
        is_default = pw.BooleanField(default=False)
        is_active = pw.BooleanField(default=False)
        immediate_kind = pw.CharField(default='none', max_length=10)
        immediate_number = pw.CharField(max_length=20, null=True)
        immediate_line = pw.ForeignKeyField(column_name='immediate_line_id', field='id', model=migrator.orm['service'], null=True, on_delete='SET NULL', backref='+')
        busy_kind = pw.CharField(default='none', max_length=10)
        busy_number = pw.CharField(max_length=20, null=True)
        busy_line = pw.ForeignKeyField(column_name='busy_line_id', field='id', model=migrator.orm['service'], null=True, on_delete='SET NULL', backref='+')
        noanswer_kind = pw.CharField(default='none', max_length=10)
        noanswer_number = pw.CharField(max_length=20, null=True)
        noanswer_line = pw.ForeignKeyField(column_name='noanswer_line_id', field='id', model=migrator.orm['service'], null=True, on_delete='SET NULL', backref='+')
        noanswer_delay_s = pw.IntegerField(default=20)
        unavailable_kind = pw.CharField(default='none', max_length=10)
        unavailable_number = pw.CharField(max_length=20, null=True)
        unavailable_line = pw.ForeignKeyField(column_name='unavailable_line_id', field='id', model=migrator.orm['service'], null=True, on_delete='SET NULL', backref='+')
        present_company_number = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "forwarding_profile"
            indexes = [(('service', 'name'), True)]

    @migrator.create_model
    class VoicemailSettings(pw.Model):
        id = pw.AutoField()
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='CASCADE', unique=True)
        enabled = pw.BooleanField(default=False)
        greeting_audio = pw.ForeignKeyField(column_name='greeting_audio_id', field='id', model=migrator.orm['audio_file'], null=True, on_delete='RESTRICT')
        pin_hash = pw.CharField(max_length=200, null=True)
        notify_email = pw.CharField(max_length=254, null=True)
        attach_message = pw.BooleanField(default=False)
        delete_after_send = pw.BooleanField(default=False)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "voicemail_settings"

    # LINE-1: at most one profile in force and one default profile per line,
    # guaranteed by the database itself (partial unique indexes: SQLite and PostgreSQL).
    migrator.sql("CREATE UNIQUE INDEX forwarding_profile_one_active "
                 "ON forwarding_profile (service_id) WHERE is_active")
    migrator.sql("CREATE UNIQUE INDEX forwarding_profile_one_default "
                 "ON forwarding_profile (service_id) WHERE is_default")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('voicemail_settings')
    migrator.remove_model('forwarding_profile')
    migrator.remove_model('audio_file')

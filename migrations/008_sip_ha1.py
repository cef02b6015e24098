"""008: the SIP digest HA1 of each Keyyo Phone credential (PBX-1), so that the registrar's
copy in Redis can be rebuilt; credentials made before this migration must be regenerated."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('softphone_credential', sip_ha1=pw.CharField(max_length=32, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('softphone_credential', 'sip_ha1')

"""011: one CSV attachment on a queued e-mail (the weekly statistics report, SWB-3)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'outbound_email',
        attachment_name=pw.CharField(max_length=120, null=True),
        attachment_body=pw.TextField(null=True),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('outbound_email', 'attachment_name', 'attachment_body')

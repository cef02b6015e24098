"""010: the service list walks (account, kind, number) in order and stops at one page
(SCALE-4: 20,000 services, no sort of them all per page)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index('service', 'account', 'kind', 'number', unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('service', 'account', 'kind', 'number')

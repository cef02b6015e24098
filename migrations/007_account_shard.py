"""007: the engine shard of every account (SCALE-1); existing accounts are on shard 0."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('account', shard=pw.IntegerField(default=0, index=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('account', 'shard')

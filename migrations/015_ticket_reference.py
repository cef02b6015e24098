"""015: tickets get a reference from the gap-free sequences (FR-1), "T2026-00001".

Existing tickets are numbered in creation order within their year, and each year's
series continues after them."""

import peewee as pw
from peewee_migrate import Migrator
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('ticket', reference=pw.CharField(max_length=30, null=True))

    def fill():
        ticket = pw.Table('ticket', ('id', 'created_at', 'reference')).bind(database)
        counts: dict[str, int] = {}
        for row in list(ticket.select(ticket.id, ticket.created_at)
                        .order_by(ticket.id)):
            created = row['created_at']
            year = str(created)[:4] if created else "2000"
            series = f"T{year}"
            counts[series] = counts.get(series, 0) + 1
            ticket.update(reference=f"{series}-{counts[series]:05d}").where(
                ticket.id == row['id']).execute()
        sequence = pw.Table('number_sequence', ('name', 'value')).bind(database)
        for name, value in counts.items():
            sequence.insert(name=name, value=value).execute()
        schema = SchemaMigrator.from_database(database)
        apply(schema.add_not_null('ticket', 'reference'),
              schema.add_index('ticket', ('reference',), unique=True))

    if not fake:
        migrator.run(fill)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('ticket', 'reference')
    migrator.remove_fields('ticket', 'reference')

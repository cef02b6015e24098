"""013: contacts' folded search column (UI-2), phone numbers re-normalised by `phonenumbers`."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('contact', search=pw.CharField(max_length=600, default='', index=True))

    def fill():
        from webapp.services import phones
        from webapp.services.search import PHONE_FIELDS, TEXT_FIELDS, document

        table = pw.Table('contact', ('id',) + TEXT_FIELDS + PHONE_FIELDS).bind(database)
        for row in list(table.select()):
            values = dict(row)
            for key in PHONE_FIELDS:
                if values[key]:
                    values[key] = phones.normalize(values[key]) or values[key]
            changes = {k: values[k] for k in PHONE_FIELDS if values[k] != row[k]}
            changes["search"] = document(values)
            pw.Table('contact', ('id', 'search') + PHONE_FIELDS).bind(database).update(
                changes).where(pw.Table('contact').c.id == row['id']).execute()

    if not fake:
        migrator.run(fill)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('contact', 'search')

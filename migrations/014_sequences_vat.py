"""014: gap-free number sequences (FR-1: invoices, orders, deployments), invoice VAT rate."""

import re

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class NumberSequence(pw.Model):
        name = pw.CharField(max_length=30, primary_key=True)
        value = pw.BigIntegerField(default=0)

        class Meta:
            table_name = "number_sequence"

    migrator.add_fields('invoice', vat_rate=pw.IntegerField(default=20))

    def seed():
        """Existing series continue after their highest number ("F2026-00012" → 12)."""
        highest: dict[str, int] = {}
        for table, column in (("invoice", "number"), ("order", "reference"),
                              ("deployment", "reference")):
            for (value,) in database.execute_sql(f'SELECT "{column}" FROM "{table}"'):
                found = re.fullmatch(r"([A-Z]\d{4})-(\d+)", value or "")
                if found:
                    key = found.group(1)
                    highest[key] = max(highest.get(key, 0), int(found.group(2)))
        for name, value in highest.items():
            database.execute_sql('INSERT INTO "number_sequence" ("name", "value") VALUES (%s, %s)'
                                 .replace("%s", database.param), (name, value))

    if not fake:
        migrator.run(seed)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('invoice', 'vat_rate')
    migrator.remove_model('number_sequence')

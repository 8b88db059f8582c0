"""SQL only PostgreSQL runs, as a migration operation: extensions, GiST indexes, triggers. The
embedded SQLite of `make demo` has none of them and searches without them (search.missions)."""

from django.db import migrations


def postgresql_only(sql: str, reverse_sql: str = "") -> migrations.RunPython:
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        if reverse_sql and schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forwards, backwards)

# A text search configuration for French that ignores accents ("eleve" finds "élève"):
# the `unaccent` extension in front of the French stemmer. PostgreSQL only; creating the
# extension needs a role allowed to (superuser, or `CREATE EXTENSION unaccent` run once by ops).
from django.db import migrations

SQL = """
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN
        CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
        ALTER TEXT SEARCH CONFIGURATION french_unaccent
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
    END IF;
END
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)


class Migration(migrations.Migration):
    dependencies = [("missions", "0003_search_and_counts")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

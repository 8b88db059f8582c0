# A text search configuration for French that ignores accents ("eleve" finds "élève"):
# the `unaccent` extension in front of the French stemmer. PostgreSQL only; creating the
# extension needs a role allowed to (superuser, or `CREATE EXTENSION unaccent` run once by ops).
from django.db import migrations

from portal.migration_sql import postgresql_only

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


class Migration(migrations.Migration):
    dependencies = [("missions", "0003_search_and_counts")]

    operations = [postgresql_only(SQL)]

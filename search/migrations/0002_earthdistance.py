# The place filter's index: PostgreSQL's `cube` and `earthdistance` contrib extensions and a
# GiST index on each mission's point as a 3-D `earth` value. A search around a place asks it
# for the box around the circle (`earth_box(...) @> ll_to_earth(latitude, longitude)`), then
# keeps the exact distance, in the same statement (search.statement). The text vector is the
# index's second column: a search with words and a place (the common one) reads from the
# table only the missions in the box that have the words (on 100,000 missions, Paris, 20 km:
# 117 rows instead of 1,322). PostgreSQL only; as for `unaccent` (0001), creating the
# extensions needs a role allowed to (superuser, or ops once).
from django.db import migrations

from portal.migration_sql import postgresql_only

SQL = """
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE INDEX IF NOT EXISTS mission_place_text ON missions_mission
    USING gist (ll_to_earth(latitude, longitude), search_vector);
"""
REVERSE = "DROP INDEX IF EXISTS mission_place_text;"


class Migration(migrations.Migration):
    dependencies = [("search", "0001_french_unaccent")]

    operations = [postgresql_only(SQL, REVERSE)]

# Two of Mission.objects.public's checks, copied onto the mission row for the search statement:
# its organisation's status (`organisation_validated`) and the portals it shows on
# (`listed_sites`). Profiled on 100,000 missions, checking them row by row (an index probe into
# organisations, another into missions_mission_sites, per matching mission) cost as much as
# the place and text index scan itself on a search with many matches: p95 of the bench's
# searches 9.6 -> 5.9 ms of SQL without them.
#
# PostgreSQL keeps them, with triggers, not the application: every writer (the ORM, moderation's
# bulk updates, generate_dataset's INSERT ... SELECT, a fix in psql) goes through them, and the
# columns are unknown to Django's models, so no `save()` can write back a stale copy.
# "validated" is Organisation.Status.VALIDATED (a test toggles an organisation's status and
# compares the statement with the ORM query). PostgreSQL only, as the statement is.
from django.db import migrations

from portal.migration_sql import postgresql_only

SQL = """
ALTER TABLE missions_mission
    ADD COLUMN IF NOT EXISTS organisation_validated boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS listed_sites integer[] NOT NULL DEFAULT '{}';

UPDATE missions_mission m SET organisation_validated = (o.status = 'validated')
FROM organisations_organisation o WHERE o.id = m.organisation_id;
UPDATE missions_mission m SET listed_sites = s.sites
FROM (SELECT mission_id, array_agg(site_id ORDER BY site_id) AS sites
      FROM missions_mission_sites GROUP BY mission_id) s
WHERE s.mission_id = m.id;

-- A mission written (or moved to another organisation) takes its organisation's status.
CREATE OR REPLACE FUNCTION search_mission_organisation() RETURNS trigger AS $$
BEGIN
    NEW.organisation_validated := coalesce(
        (SELECT status = 'validated' FROM organisations_organisation
         WHERE id = NEW.organisation_id), false);
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS search_mission_organisation ON missions_mission;
CREATE TRIGGER search_mission_organisation
    BEFORE INSERT OR UPDATE OF organisation_id ON missions_mission
    FOR EACH ROW EXECUTE FUNCTION search_mission_organisation();

-- An organisation validated, suspended, refused...: its missions follow.
CREATE OR REPLACE FUNCTION search_organisation_status() RETURNS trigger AS $$
BEGIN
    UPDATE missions_mission SET organisation_validated = (NEW.status = 'validated')
    WHERE organisation_id = NEW.id
      AND organisation_validated IS DISTINCT FROM (NEW.status = 'validated');
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS search_organisation_status ON organisations_organisation;
CREATE TRIGGER search_organisation_status
    AFTER UPDATE OF status ON organisations_organisation
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION search_organisation_status();

-- Portals added or removed: once per statement (generate_dataset inserts 100,000 rows at once).
CREATE OR REPLACE FUNCTION search_mission_sites() RETURNS trigger AS $$
BEGIN
    UPDATE missions_mission m SET listed_sites = coalesce(
        (SELECT array_agg(s.site_id ORDER BY s.site_id) FROM missions_mission_sites s
         WHERE s.mission_id = m.id), '{}')
    WHERE m.id IN (SELECT mission_id FROM changed);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS search_mission_sites_added ON missions_mission_sites;
CREATE TRIGGER search_mission_sites_added
    AFTER INSERT ON missions_mission_sites REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_mission_sites();
DROP TRIGGER IF EXISTS search_mission_sites_removed ON missions_mission_sites;
CREATE TRIGGER search_mission_sites_removed
    AFTER DELETE ON missions_mission_sites REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_mission_sites();
"""

REVERSE = """
DROP TRIGGER IF EXISTS search_mission_sites_removed ON missions_mission_sites;
DROP TRIGGER IF EXISTS search_mission_sites_added ON missions_mission_sites;
DROP TRIGGER IF EXISTS search_organisation_status ON organisations_organisation;
DROP TRIGGER IF EXISTS search_mission_organisation ON missions_mission;
DROP FUNCTION IF EXISTS search_mission_sites();
DROP FUNCTION IF EXISTS search_organisation_status();
DROP FUNCTION IF EXISTS search_mission_organisation();
ALTER TABLE missions_mission DROP COLUMN IF EXISTS listed_sites,
    DROP COLUMN IF EXISTS organisation_validated;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_earthdistance"),
        ("missions", "0009_slots"),
        ("organisations", "0001_initial"),
    ]

    operations = [postgresql_only(SQL, REVERSE)]

"""A realistic data set for benchmarks and plan checks, written by PostgreSQL itself.

Defaults are the scale of March 2020: 5,000 organisations, 100,000 missions across France,
1,000,000 volunteers, 2,000,000 applications. Rows are made with INSERT ... SELECT over
generate_series (no Python loop), so the whole set takes minutes, not hours.
"""

import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from wagtail.models import Site

from missions import postcodes
from search.index import VECTOR_SQL, bump

TITLES = [
    "Distribution alimentaire",
    "Soutien scolaire",
    "Visite aux personnes âgées",
    "Maraude solidaire",
    "Collecte de vêtements",
    "Accueil des familles",
    "Courses solidaires",
    "Atelier numérique",
    "Tri des dons",
    "Appels de convivialité",
    "Aide aux devoirs",
    "Jardin partagé",
]
# (name, postal code): their coordinates are those of the bundled sample of postal codes.
CITIES = [
    ("Paris", "75011"),
    ("Lyon", "69007"),
    ("Marseille", "13001"),
    ("Lille", "59000"),
    ("Toulouse", "31000"),
    ("Bordeaux", "33000"),
    ("Nantes", "44000"),
    ("Strasbourg", "67000"),
    ("Rennes", "35000"),
    ("Montpellier", "34000"),
]
# Analysed once loaded, so that the planner knows their new sizes.
ANALYZED = [
    "organisations_organisation",
    "missions_mission",
    "accounts_user",
    "missions_application",
    "missions_mission_sites",
]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--organisations", type=int, default=5_000)
        parser.add_argument("--missions", type=int, default=100_000)
        parser.add_argument("--volunteers", type=int, default=1_000_000)
        parser.add_argument("--applications", type=int, default=2_000_000)
        parser.add_argument("--site", help="hostname of the portal (default: the default site)")

    def handle(self, *args, organisations, missions, volunteers, applications, site, **options):
        self.verbosity = options.get("verbosity", 1)
        if connection.vendor != "postgresql":
            raise CommandError("generate_dataset needs PostgreSQL.")
        site = Site.objects.get(hostname=site) if site else Site.objects.get(is_default_site=True)
        run = uuid.uuid4().hex[:8]
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            steps = self.steps(site.pk, run, organisations, missions, volunteers, applications)
            for label, sql in steps.items():
                step = time.monotonic()
                cursor.execute(sql)  # without parameters, the % of modulo and LIKE is plain text
                self.log(f"{label}: {cursor.rowcount} rows in {time.monotonic() - step:.1f} s")
            cursor.execute(VECTOR_SQL + " AND m.slug LIKE %s", [f"gen-{run}-%"])
            self.log(f"search vectors: {cursor.rowcount} in {time.monotonic() - step:.1f} s")
        with connection.cursor() as cursor:
            for table in ANALYZED:
                cursor.execute(f"ANALYZE {table}")
        bump()
        self.log(f"done in {time.monotonic() - started:.1f} s (run {run})")

    def log(self, message):
        if self.verbosity:
            self.stdout.write(message)

    def steps(self, site_id, run, organisations, missions, volunteers, applications):
        """Label -> statement; the numbers are written into the SQL, as numbers."""
        site_id, organisations, missions, volunteers, applications = map(
            int, (site_id, organisations, missions, volunteers, applications)
        )
        place = {code: (lat, lng) for code, _, lat, lng in postcodes.read(postcodes.SAMPLE)}
        titles = "ARRAY[" + ",".join(f"'{t}'" for t in TITLES) + "]"
        cities = "ARRAY[" + ",".join(f"'{name}'" for name, _ in CITIES) + "]"
        codes = "ARRAY[" + ",".join(f"'{code}'" for _, code in CITIES) + "]"
        lats = "ARRAY[" + ",".join(str(place[code][0]) for _, code in CITIES) + "]::float[]"
        lngs = "ARRAY[" + ",".join(str(place[code][1]) for _, code in CITIES) + "]::float[]"
        n_cities, n_titles = len(CITIES), len(TITLES)
        per_volunteer = max(applications // max(volunteers, 1), 1)
        return {
            "organisations": f"""
                INSERT INTO organisations_organisation (site_id, name, slug, type, rna, siret,
                    description, address, postal_code, city, contact_email, contact_phone,
                    status, refusal_reason, created_at, status_changed_at)
                SELECT {site_id}, 'Association ' || ({cities})[1 + g % {n_cities}] || ' ' || g,
                    'gen-{run}-org-' || g, 'association', 'W' || lpad(g::text, 9, '0'), '',
                    'Association de solidarité de proximité.', '', ({codes})[1 + g % {n_cities}],
                    ({cities})[1 + g % {n_cities}], '', '', 'validated', '', now(), now()
                FROM generate_series(1, {organisations}) g""",
            # Missions cluster around big cities (up to ~0.6°, ~50 km) like real offers do.
            "missions": f"""
                WITH orgs AS (SELECT array_agg(id ORDER BY id) ids FROM organisations_organisation
                              WHERE slug LIKE 'gen-{run}-org-%'),
                     doms AS (SELECT coalesce(array_agg(id ORDER BY id), ARRAY[NULL]::bigint[]) ids
                              FROM missions_domain)
                INSERT INTO missions_mission (organisation_id, title, slug, description,
                    domain_id, activity_id, audience, is_remote, address, postal_code, city,
                    latitude, longitude, geocode_status, geocoded_at, start_date, end_date,
                    is_recurring, schedule, places, active_count, waiting_list, prerequisites,
                    minimum_age, status, refusal_reason, created_at, updated_at)
                SELECT orgs.ids[1 + g % array_length(orgs.ids, 1)],
                    ({titles})[1 + g % {n_titles}] || ' à ' || ({cities})[1 + (g / 7) % {n_cities}],
                    'gen-{run}-m-' || g,
                    '<p>' || ({titles})[1 + g % {n_titles}] || ' avec une équipe de bénévoles. '
                        || 'Formation assurée, aucune compétence particulière requise.</p>',
                    doms.ids[1 + g % array_length(doms.ids, 1)], NULL, 'all', g % 20 = 0, '',
                    ({codes})[1 + (g / 7) % {n_cities}], ({cities})[1 + (g / 7) % {n_cities}],
                    CASE WHEN g % 20 = 0 THEN NULL
                         ELSE ({lats})[1 + (g / 7) % {n_cities}] + (random() - 0.5) * 1.2 END,
                    CASE WHEN g % 20 = 0 THEN NULL
                         ELSE ({lngs})[1 + (g / 7) % {n_cities}] + (random() - 0.5) * 1.6 END,
                    'ok', now(), current_date + (g % 60), current_date + 60 + (g % 120),
                    false, '', 2 + g % 30, 0, true, '', 16, 'validated', '', now(), now()
                FROM generate_series(1, {missions}) g, orgs, doms""",
            "mission portals": f"""
                INSERT INTO missions_mission_sites (mission_id, site_id)
                SELECT id, {site_id} FROM missions_mission WHERE slug LIKE 'gen-{run}-m-%'""",
            "volunteers": f"""
                INSERT INTO accounts_user (password, is_superuser, first_name, last_name, email,
                    is_staff, is_active, date_joined, signup_site_id, postal_code, phone,
                    language, email_confirmed_at, pending_email, availability, interests,
                    auth_epoch)
                SELECT '!', false, 'Camille', 'Bénévole ' || g,
                    'gen-{run}-' || g || '@example.org', false, true,
                    now() - (g % 30) * interval '1 day', {site_id},
                    ({codes})[1 + g % {n_cities}], '', 'fr', now(), '', '[]', '[]', 0
                FROM generate_series(1, {volunteers}) g""",
            # Past participations: done, refused or cancelled, so places stay free.
            # MATERIALIZED: the tables were filled in this transaction (no statistics yet) and
            # the planner otherwise rebuilt the missions' array once per volunteer (90 s for
            # 4,000 applications on 30,000 missions, 0.1 s so).
            "applications": f"""
                WITH ms AS MATERIALIZED (SELECT array_agg(id ORDER BY id) ids
                            FROM missions_mission WHERE slug LIKE 'gen-{run}-m-%'),
                     vs AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY id) n
                            FROM accounts_user WHERE email LIKE 'gen-{run}-%')
                INSERT INTO missions_application (mission_id, volunteer_id, message, status,
                    refusal_reason, reason_text, created_at, status_changed_at)
                SELECT ms.ids[1 + ((vs.n * 7919 + k * 104729) % array_length(ms.ids, 1))], vs.id,
                    '', (ARRAY['done','done','done','refused','cancelled'])[1 + (vs.n + k) % 5],
                    '', '', now() - ((vs.n + k) % 60) * interval '1 day', now()
                FROM vs, ms, generate_series(0, {per_volunteer - 1}) k
                WHERE vs.n * {per_volunteer} + k < {applications}
                ON CONFLICT DO NOTHING""",
        }

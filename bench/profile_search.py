"""In-process view of uncached mission searches (run under the bench env, on the bench data set).

    python -m bench.profile_search --count 200

Through django.test.Client on GET /api/v1/missions (Host: localhost), every request a new place
(the bench's uncached traffic), so the result cache never answers:
  1. the SQL of one search (CaptureQueriesContext) and EXPLAIN ANALYZE of each statement;
  2. `count` searches timed without a profiler: wall time per request, and the part spent in
     the database (the queries' own time, from Django's query log);
  3. `count` searches under cProfile: top entries by cumulative and own time.
Prints one `BENCH_JSON {...}` line on stdout.
"""

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import time

import django
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.harness import ROOT

CITIES = [(48.86, 2.38), (45.75, 4.84), (43.30, 5.38), (50.63, 3.06), (43.60, 1.44)]
WORDS = ["distribution", "soutien scolaire", "visite", "maraude", "collecte"]
PATH = "/api/v1/missions"


def uncached_url(rng: random.Random) -> str:
    lat, lng = rng.choice(CITIES)
    lat, lng = lat + rng.uniform(-0.3, 0.3), lng + rng.uniform(-0.4, 0.4)
    q, radius = rng.choice(WORDS), rng.randint(5, 30)
    return f"{PATH}?q={q}&lat={lat:.5f}&lng={lng:.5f}&radius_km={radius}"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings  # noqa: PLC0415 - settings exist after setup()

    rng = random.Random(18)
    client = Client(HTTP_HOST="localhost")
    client.get("/_ping")
    client.get(uncached_url(rng))  # warm: connections, portal settings, taxonomy
    with CaptureQueriesContext(connection) as captured:
        client.get(uncached_url(rng))
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append({"sql": query["sql"], "plan": [row[0] for row in cursor.fetchall()]})

    settings.DEBUG = True  # the query log, for the database's share of the time
    wall, database = [], []
    for _ in range(args.count):
        reset_queries()
        start = time.perf_counter()
        response = client.get(uncached_url(rng))
        wall.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:200]
        database.append(sum(float(q["time"]) for q in connection.queries) * 1000)
    settings.DEBUG = False

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.count):
        client.get(uncached_url(rng))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)
    wall.sort()
    database.sort()
    report = {
        "requests": args.count,
        "wall_ms": {"p50": round(wall[len(wall) // 2], 2), "p95": round(wall[-len(wall) // 20], 2)},
        "database_ms": {"p50": round(database[len(database) // 2], 2)},
        "plans": plans,
        "profile": out.getvalue(),
    }
    print("BENCH_JSON " + json.dumps(report))


if __name__ == "__main__":
    main()

"""search: GET /api/v1/missions on 100,000 missions, uncached (text + radius + facets) and
cached, next to the bare view; then the uncached search again with the text answered by a
Wagtail search backend (MISSION_SEARCH_BACKEND: here Wagtail's database backend, the engine
these machines run; Elasticsearch/OpenSearch in a large deployment), same run, same data."""

import random
import statistics
import subprocess
import sys
import time

import requests

from bench.harness import ROOT, bench_db, bench_env, gunicorn, run_wrk

CITIES = [(48.86, 2.38), (45.75, 4.84), (43.30, 5.38), (50.63, 3.06), (43.60, 1.44)]
WORDS = ["distribution", "soutien scolaire", "visite", "maraude", "collecte"]
PATH = "/api/v1/missions"
CACHED_QUERY = f"{PATH}?q=distribution&lat=48.86&lng=2.38&radius_km=20"


def ensure_dataset() -> dict:
    """The March 2020 scale in the bench database, generated once (minutes)."""
    rows = bench_db("SELECT count(*) FROM missions_mission WHERE slug LIKE 'gen-%'")[0][0]
    if rows < 100_000:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "manage.py", "generate_dataset", "-v0"],
            cwd=ROOT,
            env=bench_env(),
            check=True,
        )
        return {"generated_in_s": round(time.monotonic() - started, 1)}
    return {"generated_in_s": None}


def ensure_engine_index() -> dict:
    """The missions in Wagtail's search index (generate_dataset writes rows with SQL, which
    Wagtail does not see): `update_index` once (minutes), then reused."""
    indexed = bench_db(
        "SELECT count(*) FROM wagtailsearch_indexentry e JOIN django_content_type t"
        " ON t.id = e.content_type_id WHERE t.app_label = 'missions' AND t.model = 'mission'"
    )[0][0]
    missions = bench_db("SELECT count(*) FROM missions_mission")[0][0]
    if indexed >= missions:
        return {"engine_indexed_in_s": None}
    started = time.monotonic()
    command = [sys.executable, "manage.py", "update_index", "-v0"]
    subprocess.run(command, cwd=ROOT, env=bench_env(), check=True)
    return {"engine_indexed_in_s": round(time.monotonic() - started, 1)}


def run(args) -> dict:
    """Latencies from wrk with 32 connections (so they include queueing) and from single
    requests one at a time (the latency one search costs)."""
    seconds, warmup = args.seconds, args.warmup
    report = {**ensure_dataset(), **ensure_engine_index()}
    with gunicorn("search") as server:
        run_wrk(server, "/_ping", warmup, "reference.lua", "search-warmup")
        reference = run_wrk(server, "/_ping", seconds, "reference.lua", "search-reference")
        searches = {}
        for mode in ("uncached", "cached"):
            label = f"search-{mode}"
            searches[mode] = run_wrk(server, PATH, seconds, "search.lua", label, SEARCH_MODE=mode)
        report["sequential_ms"] = sequential_latencies(server)
    with gunicorn("search-engine", MISSION_SEARCH_BACKEND="default") as server:
        run_wrk(server, PATH, warmup, "search.lua", "search-engine-warmup")
        searches["engine_uncached"] = run_wrk(
            server, PATH, seconds, "search.lua", "search-engine-uncached", SEARCH_MODE="uncached"
        )
        # Slower by far (Wagtail's database backend ranks every match): fewer, longer waits.
        report["engine_sequential_ms"] = sequential_latencies(
            server, count=40, only_uncached=True, timeout=120
        )
    report.update(
        reference_req_per_s=reference["req_per_s"],
        reference_latency_ms=reference["latency_ms"],
        **searches,
    )
    report["ratios"] = ratios(report)
    return report


def ratios(r: dict) -> dict:
    """What issue 18 asks, against the bare view of the same run: uncached throughput under
    wrk -c32 (goal >= 0.1), one-at-a-time p95 uncached (goal <= 10) and cached (<= 1.5)."""
    seq, bare = r["sequential_ms"], r["sequential_ms"]["reference"]["p95"]
    return {
        "uncached_throughput": round(r["uncached"]["req_per_s"] / r["reference_req_per_s"], 3),
        "cached_throughput": round(r["cached"]["req_per_s"] / r["reference_req_per_s"], 3),
        "engine_uncached_throughput": round(
            r["engine_uncached"]["req_per_s"] / r["reference_req_per_s"], 3
        ),
        "uncached_p95": round(seq["uncached"]["p95"] / bare, 2),
        "cached_p95": round(seq["cached"]["p95"] / bare, 2),
        "engine_uncached_p95": round(r["engine_sequential_ms"]["uncached"]["p95"] / bare, 2),
    }


def sequential_latencies(server, count: int = 200, only_uncached=False, timeout=10) -> dict:
    session = requests.Session()

    def measure(url):
        times = []
        for _ in range(count):
            start = time.perf_counter()
            response = session.get(
                server.url + url(), headers={"Host": "localhost"}, timeout=timeout
            )
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text[:200]
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        return {"p50": round(statistics.median(times), 2), "p95": round(p95, 2)}

    def uncached_url():
        lat, lng = random.choice(CITIES)
        lat, lng = lat + random.uniform(-0.3, 0.3), lng + random.uniform(-0.4, 0.4)
        q, radius = random.choice(WORDS), random.randint(5, 30)
        return f"{PATH}?q={q}&lat={lat:.5f}&lng={lng:.5f}&radius_km={radius}"

    if only_uncached:
        return {"uncached": measure(uncached_url)}
    return {
        "uncached": measure(uncached_url),
        "cached": measure(lambda: CACHED_QUERY),
        "reference": measure(lambda: "/_ping"),
    }


def summary(r: dict) -> str:
    seq = r["sequential_ms"]
    return (
        f"search (100,000 missions): one at a time p50/p95 uncached {seq['uncached']['p50']}/"
        f"{seq['uncached']['p95']} ms, cached {seq['cached']['p50']}/{seq['cached']['p95']} ms"
        f", bare view {seq['reference']['p50']}/{seq['reference']['p95']} ms; under wrk -c32 "
        f"uncached {r['uncached']['req_per_s']} req/s (p95 {r['uncached']['latency_ms']['p95']}"
        f" ms), cached {r['cached']['req_per_s']} req/s (p95 {r['cached']['latency_ms']['p95']}"
        f" ms), bare view {r['reference_req_per_s']} req/s; text in Wagtail's backend: "
        f"uncached {r['engine_uncached']['req_per_s']} req/s, one at a time p95 "
        f"{r['engine_sequential_ms']['uncached']['p95']} ms\n"
        f"search ratios to the bare view: {r['ratios']}"
    )

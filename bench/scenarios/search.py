"""search: GET /api/v1/missions on 100,000 missions, uncached (text + radius + facets) and
cached, next to the bare view."""

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


def run(args) -> dict:
    """Latencies from wrk with 32 connections (so they include queueing) and from single
    requests one at a time (the latency one search costs)."""
    seconds, warmup = args.seconds, args.warmup
    report = ensure_dataset()
    with gunicorn("search") as server:
        run_wrk(server, "/_ping", warmup, "reference.lua", "search-warmup")
        reference = run_wrk(server, "/_ping", seconds, "reference.lua", "search-reference")
        searches = {}
        for mode in ("uncached", "cached"):
            label = f"search-{mode}"
            searches[mode] = run_wrk(server, PATH, seconds, "search.lua", label, SEARCH_MODE=mode)
        report["sequential_ms"] = sequential_latencies(server)
    report.update(
        reference_req_per_s=reference["req_per_s"],
        reference_latency_ms=reference["latency_ms"],
        **searches,
        goals_ms={"uncached_p95": 50, "cached_p95": 5},
    )
    return report


def sequential_latencies(server, count: int = 200) -> dict:
    session = requests.Session()

    def measure(url):
        times = []
        for _ in range(count):
            start = time.perf_counter()
            response = session.get(server.url + url(), headers={"Host": "localhost"}, timeout=10)
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
        f" ms), bare view {r['reference_req_per_s']} req/s"
    )

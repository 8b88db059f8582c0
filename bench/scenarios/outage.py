"""outage: what each Redis costs when it is down (cache, then broker, then sessions): home page
and signups next to the same figures with every Redis up, in the same processes."""

import time

from bench.harness import (
    count_created,
    csrf_pair,
    ensure_static,
    gunicorn,
    run_signups,
    run_wrk,
    wrk_errors,
)
from tests.workers import RedisServer


def run(args) -> dict:
    """One gunicorn (production settings) with a cache, a sessions and a broker Redis of its
    own, measured all up, then with the cache down, then the broker too, then the sessions
    too. Every figure sits next to the all-up one."""
    seconds, warmup = args.seconds, args.warmup
    ensure_static()
    redises = {name: RedisServer().start() for name in ("cache", "sessions", "broker")}
    nonce = time.strftime("%Y%m%d%H%M%S") + "o"
    env = {
        "REDIS_URL": redises["cache"].url,
        "SESSION_REDIS_URL": redises["sessions"].url,
        "CELERY_BROKER_URL": redises["broker"].url,
    }
    runs: dict[str, dict] = {}
    try:
        with gunicorn("outage", **env) as server:
            for _ in range(3):
                assert server.get("/fr/").status_code == 200
            csrf = csrf_pair(server)

            def measure(state: str, *what: str) -> None:
                runs[state] = {}
                label = f"outage-{state}"
                if "ping" in what:
                    ping = run_wrk(server, "/_ping", seconds, "reference.lua", f"{label}-ping")
                    runs[state]["ping"] = ping
                if "home" in what:
                    home = run_wrk(server, "/fr/", seconds, "reference.lua", f"{label}-home")
                    runs[state]["home"] = home
                    # A session cookie bypasses the page cache: Django renders every request
                    # (the long tail of pages, a signed-in visitor on a public page).
                    cookie = "Cookie: sessionid=bench-no-such-session"
                    runs[state]["home_rendered"] = run_wrk(
                        server, "/fr/", seconds, "reference.lua", f"{label}-rendered", [cookie]
                    )
                if "signup" in what:
                    signup_nonce = f"{nonce}{state}"
                    signup = run_signups(server, seconds, f"{label}-signup", signup_nonce, csrf)
                    runs[state]["signup"] = {**signup, "db": count_created(signup_nonce)}

            run_wrk(server, "/_ping", warmup, "reference.lua", "outage-warmup")
            measure("all_up", "ping", "home", "signup")
            redises["cache"].stop()
            measure("cache_down", "ping", "home", "signup")
            redises["broker"].stop()
            measure("cache_and_broker_down", "signup")
            redises["sessions"].stop()
            measure("all_down", "home")
            alive = server.alive()
    finally:
        for redis_server in redises.values():
            redis_server.stop()
    problems = [] if alive else ["gunicorn did not answer /_ping after the run"]
    for state, figures in runs.items():
        for kind, run in figures.items():
            errors = wrk_errors(run)
            if errors:
                problems.append(f"{state} {kind}: wrk errors {errors}")
            if kind == "signup":
                others = {k: v for k, v in run["statuses"].items() if k != "202"}
                if others or run["db"]["users"] < run["statuses"].get("202", 0):
                    problems.append(f"{state} signup: {others}, {run['db']}")
    up, down = runs["all_up"], runs["cache_down"]

    def ratio(figures: dict, kind: str) -> float:
        return round(figures[kind]["req_per_s"] / up[kind]["req_per_s"], 3)

    return {
        "valid": not problems,
        "problems": problems,
        "req_per_s": {
            state: {kind: run["req_per_s"] for kind, run in figures.items()}
            for state, figures in runs.items()
        },
        "ratios": {
            "home_cache_down_vs_all_up": ratio(down, "home"),
            "home_cache_down_vs_ping": round(
                down["home"]["req_per_s"] / down["ping"]["req_per_s"], 3
            ),
            "home_all_down_vs_all_up": ratio(runs["all_down"], "home"),
            "home_rendered_cache_down_vs_all_up": ratio(down, "home_rendered"),
            "signup_cache_down_vs_all_up": ratio(down, "signup"),
            "signup_cache_and_broker_down_vs_all_up": ratio(
                runs["cache_and_broker_down"], "signup"
            ),
        },
        "runs": runs,
    }


def summary(o: dict) -> str:
    rates, ratios = o["req_per_s"], o["ratios"]
    up, cache_down = rates["all_up"], rates["cache_down"]
    line = (
        f"outage: home {up['home']} req/s all up, {cache_down['home']} with the cache Redis "
        f"down (x{ratios['home_cache_down_vs_all_up']}), {rates['all_down']['home']} with "
        "all three down; rendered by Django (page cache bypassed) "
        f"{up['home_rendered']} req/s all up, {cache_down['home_rendered']} cache down "
        f"(x{ratios['home_rendered_cache_down_vs_all_up']}); signups {up['signup']}/s all "
        f"up, {cache_down['signup']}/s cache down, "
        f"{rates['cache_and_broker_down']['signup']}/s cache and broker down "
        f"(x{ratios['signup_cache_and_broker_down_vs_all_up']}); bare view {up['ping']} req/s"
    )
    if not o["valid"]:
        line += f"\noutage: INVALID RUN {o['problems']}"
    return line

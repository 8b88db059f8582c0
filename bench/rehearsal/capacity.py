"""The capacity plan's arithmetic: CPU seconds per request of each kind in each component,
measured in the calibration phases (one kind of load at a time), then scaled to March 2020's
targets.

Method: for each calibration phase, the CPU each component used from the phase's start to the
end of its quiet tail (so the work a request leaves behind is counted: the signup writer's
batch, the confirmation email's send), minus that component's idle rate over the same time
(measured in the first seconds), divided by the requests the phase served. Emails: the
workers' and fake Brevo's CPU in the signup phase per email sent.
"""

import math

from bench.rehearsal.plan import MARCH_2020, TARGET_MINUTES, TARGET_SIGNUPS_PER_S, TARGET_VISITORS

COMPONENTS = (
    "nginx",
    "web",
    "signup_writer",
    "worker",
    "beat",
    "postgres",
    "postgres_replica",
    "redis_cache",
    "redis_sessions",
)
# What one visitor of the 3 million does, beyond signing up (600/s are counted on their own).
VISITOR_MIX = {"home": 1.0, "mission": 1.0, "search": 0.5}
UTILISATION = 0.6  # plan every CPU for 60% busy: room for bursts, a lost instance, GC
WEB_CONTAINER_CPUS = 1  # a Scalingo M/L container, a compose replica pinned to a core


def cpu_at(samples: list[dict], t: float) -> tuple[float, dict]:
    """(time, cumulative CPU of each component) of the last sample taken at or before t."""
    best = samples[0]
    for sample in samples:
        if sample["t"] > t:
            break
        best = sample
    return best["t"], best["cpu"]


def count(per_second: list[dict], name: str, start: float, end: float) -> int:
    return sum(r["count"] for r in per_second if r["name"] == name and start <= r["t"] < end)


def per_request(plan: dict, samples: list[dict], per_second: list[dict]) -> dict:
    """{kind: {"requests": n, "cpu_ms": {component: ms per request}}} from the calibration."""
    phases = {p["name"]: p for p in plan["phases"]}
    idle = phases["idle"]
    (t1, first), (t2, last) = cpu_at(samples, idle["start"] + 1), cpu_at(samples, idle["end"])
    idle_rate = {c: (last.get(c, 0) - first.get(c, 0)) / max(t2 - t1, 0.5) for c in last}
    out = {}
    for kind in ("home", "miss", "search", "mission", "signup"):
        phase, tail = phases[f"calib_{kind}"], phases[f"calib_{kind}_tail"]
        start, end = phase["start"], tail["end"]
        (_, before), (_, after) = cpu_at(samples, start), cpu_at(samples, end)
        requests = count(per_second, kind, start, end)
        cpu = {}
        for component in after:
            used = after.get(component, 0) - before.get(component, 0)
            used -= idle_rate.get(component, 0) * (end - start)
            cpu[component] = round(1000 * max(used, 0) / max(requests, 1), 3)
        entry = {"requests": requests, "seconds": end - start, "cpu_ms": cpu}
        if kind == "signup":
            emails = [s.get("emails_sent") for s in samples if start <= s["t"] <= end + 0.5]
            emails = [e for e in emails if e is not None]
            sent = (emails[-1] - emails[0]) if len(emails) > 1 else 0
            entry["emails"] = sent
            entry["email_cpu_ms"] = {
                c: round(
                    1000
                    * max(
                        after.get(c, 0) - before.get(c, 0) - idle_rate.get(c, 0) * (end - start), 0
                    )
                    / max(sent, 1),
                    3,
                )
                for c in ("worker", "brevo")
            }
        out[kind] = entry
    return out


def database_cpus(cores: float) -> int:
    """A database server's CPUs: a power of two, two at least (how they are sold)."""
    return 2 ** max(1, math.ceil(math.log2(max(cores, 1))))


def plan_for(costs: dict, db_bytes: int = 0, redis_bytes: dict | None = None) -> dict:
    """Cores per component for the targets, with and without a CDN in front, and the sizes."""
    visitors_per_s = TARGET_VISITORS / (TARGET_MINUTES * 60)
    load = {"signup": TARGET_SIGNUPS_PER_S}
    load.update({kind: visitors_per_s * share for kind, share in VISITOR_MIX.items()})
    behind_cdn = {"signup": load["signup"], "search": load["search"]}  # pages come from the CDN

    def cores(rates: dict) -> dict:
        total = {}
        for kind, rate in rates.items():
            for component, ms in costs[kind]["cpu_ms"].items():
                if component not in COMPONENTS:  # the load generator, the fakes: outside
                    continue
                total[component] = total.get(component, 0.0) + rate * ms / 1000
        return {c: round(v, 2) for c, v in sorted(total.items())}

    scenarios = {"no CDN": cores(load), "behind the CDN": cores(behind_cdn)}
    sizing = {}
    for name, need in scenarios.items():
        web = need.get("web", 0) / UTILISATION / WEB_CONTAINER_CPUS
        workers = (need.get("worker", 0) + need.get("signup_writer", 0)) / UTILISATION
        pg = need.get("postgres", 0) / UTILISATION
        sizing[name] = {
            "web_containers": max(2, math.ceil(web)),
            "worker_containers": max(2, math.ceil(workers)),
            "nginx_cores": round(need.get("nginx", 0) / UTILISATION, 1),
            "postgres_cpus": database_cpus(pg),
            "postgres_replica_cpus": database_cpus(need.get("postgres_replica", 0) / UTILISATION),
            "redis_cache_core_share": need.get("redis_cache", 0),
            "redis_sessions_core_share": need.get("redis_sessions", 0),
        }
    memory_gb = 2 ** max(2, math.ceil(math.log2(max(2 * db_bytes / 2**30, 1))))
    return {
        "targets": {
            "signups_per_s": TARGET_SIGNUPS_PER_S,
            "visitors": TARGET_VISITORS,
            "minutes": TARGET_MINUTES,
            "visitors_per_s": round(visitors_per_s),
            "visitor_mix": VISITOR_MIX,
            "utilisation": UTILISATION,
        },
        "cores": scenarios,
        "sizing": sizing,
        "database_bytes": db_bytes,
        "postgres_memory_gb": memory_gb,
        "redis_bytes": redis_bytes or {},
        "march_2020": MARCH_2020,
    }

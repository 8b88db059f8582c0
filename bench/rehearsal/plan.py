"""The rehearsal's timeline: data sizes, load phases (rates per kind of request) and faults.

Everything is in seconds from the start of the load (t0). The plan is written to plan.json
and read by the locustfile (the rates), by run.py (the faults) and by the report.

Kinds of request (one Locust user class each, paced to the rate the plan gives):
  home     GET /fr/ through nginx: the flood, served by the micro-cache and the page cache
  miss     GET /fr/?v=<unique>: a page Django renders (no cache can answer it)
  search   GET /api/v1/missions with a random place and word: mostly uncached searches
  mission  GET /fr/missions/<id>-<slug>/ among a sample of public missions
  signup   POST /api/v1/signup, each from a new address and a new client IP
  apply    POST /api/v1/missions/<id>/applications by a signed-in volunteer
"""

KINDS = ("home", "miss", "search", "mission", "signup", "apply")

# March 2020's figures (Scalingo's account, /work/shared/seed): what the plan is sized for.
TARGET_SIGNUPS_PER_S = 600
TARGET_VISITORS = 3_000_000
TARGET_MINUTES = 30
MARCH_2020 = {"app_containers": 50, "database": "32 CPU / 64 GB PostgreSQL cluster"}

# A saturated signup step: p95 above this, or more errors than this share.
P95_LIMIT_MS = 500
ERROR_LIMIT = 0.01


def build(quick: bool) -> dict:
    """The full run (about 15 minutes of load) or QUICK (under 3 minutes)."""
    if quick:
        data = {
            "organisations": 200,
            "missions": 2_000,
            "volunteers": 20_000,
            "applications": 40_000,
        }
        calib, gap = 8, 3
        steps = [10, 20, 40, 80]
        step_seconds = 10
        fault_phase = 72
        brevo_down = 20
        background = {"home": 80, "search": 3, "mission": 4, "apply": 2}
        flood = 200
    else:
        data = {
            "organisations": 5_000,
            "missions": 100_000,
            "volunteers": 1_000_000,
            "applications": 2_000_000,
        }
        calib, gap = 30, 10
        steps = [25, 50, 75, 100, 150, 200, 300, 450, 600]
        step_seconds = 40
        fault_phase = 330
        brevo_down = 60
        background = {"home": 150, "search": 6, "mission": 8, "apply": 3}
        flood = 400
    phases = []
    t = 5  # the first seconds: idle baseline of every process
    phases.append({"name": "idle", "start": 0, "end": t, "rates": {}})
    # Calibration: one kind at a time, so that each process's CPU per request is measured
    # alone (capacity plan). Signups last: their emails are sent during the following gap.
    calibration = [
        ("calib_home", {"home": flood}),
        ("calib_miss", {"miss": 15}),
        ("calib_search", {"search": 8}),
        ("calib_mission", {"mission": 8}),
        ("calib_signup", {"signup": steps[1]}),
    ]
    for name, rates in calibration:
        phases.append({"name": name, "start": t, "end": t + calib, "rates": rates})
        t += calib
        phases.append({"name": name + "_tail", "start": t, "end": t + gap, "rates": {}})
        t += gap
    ramp_start = t
    for i, rate in enumerate(steps):
        rates = {**background, "signup": rate}
        phases.append(
            {
                "name": f"step_{i + 1}",
                "start": t,
                "end": t + step_seconds,
                "rates": rates,
                "step": i + 1,
            }
        )
        t += step_seconds
    ramp_end = t
    # Faults under a steady load: signups at half the last step that held (the locustfile
    # knows it), the home-page flood at its peak.
    phases.append(
        {
            "name": "faults",
            "start": t,
            "end": t + fault_phase,
            "signup_share_of_held": 0.5,
            "rates": {**background, "home": flood, "signup": steps[0]},
        }
    )
    f0 = t
    u = fault_phase / 12  # the fault phase is cut in twelfths
    faults = [
        {"name": "brevo_down", "at": f0 + 0.5 * u, "duration": brevo_down, "grace": 0},
        {"name": "cache_redis_restart", "at": f0 + 2.5 * u, "duration": 3, "grace": 5},
        {"name": "degraded_on", "at": f0 + 4 * u, "switch": True},
        {"name": "gunicorn_kill", "at": f0 + 5 * u, "duration": 0.9 * u, "grace": 5},
        {"name": "worker_kill", "at": f0 + 6.5 * u, "duration": 0.9 * u, "grace": 0},
        {"name": "degraded_off", "at": f0 + 8 * u, "switch": True},
        {"name": "postgres_restart", "at": f0 + 9 * u, "duration": 3, "grace": 10},
    ]
    t += fault_phase
    return {
        "quick": quick,
        "data": data,
        "phases": phases,
        "ramp": {"start": ramp_start, "end": ramp_end, "steps": steps, "seconds": step_seconds},
        "faults": [
            {k: round(v, 1) if isinstance(v, float) else v for k, v in f.items()} for f in faults
        ],
        "end": t,
        "limits": {"p95_ms": P95_LIMIT_MS, "errors": ERROR_LIMIT},
    }


def windows(plan: dict, actual: list | None = None) -> list[dict]:
    """Fault windows [start, end + grace] in seconds from t0: the planned ones, or the times
    the faults were really played (faults.json) when given. Switches are not faults."""
    faults = actual if actual is not None else plan["faults"]
    out = []
    for fault in faults:
        if fault.get("switch"):
            continue
        end = fault.get("end", fault["at"] + fault.get("duration", 0))
        out.append(
            {"name": fault["name"], "start": fault["at"], "end": end + fault.get("grace", 0)}
        )
    return out


def rates_at(plan: dict, t: float) -> dict:
    for phase in plan["phases"]:
        if phase["start"] <= t < phase["end"]:
            return phase
    return {"name": "after", "rates": {}}

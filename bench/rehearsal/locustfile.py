"""Day -2 replayed through nginx: the home-page flood, the signup ramp, searches, mission pages
and applications, each kind paced to the rate bench/rehearsal/plan.py gives at each second.

Run by bench/rehearsal/run.py (`locust -f bench/rehearsal/locustfile.py --headless ...`) with:
  REHEARSAL_PLAN  plan.json (phases, rates, ramp, the missions sample, the volunteers' sessions)
  REHEARSAL_OUT   where per-second figures, the ramp's steps and the accepted signups go
  REHEARSAL_T0    the wall-clock time (epoch seconds) the plan's second 0 stands for

Every request comes from a client address of its own (X-Forwarded-For), as the CDN in front of
nginx would say it, over HTTPS at the edge (X-Forwarded-Proto): nginx's real_ip then keys its
rate limits on the visitor, and so does the app (TRUSTED_PROXY_COUNT=2), as in production.

Each kind is one user class with a fixed number of users (its concurrency cap); a shared pacer
hands out start times at the plan's rate (open loop until the cap is reached: a slow server
then shows as a rate below the plan's, and as latency).
"""

import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from pathlib import Path

import gevent
from locust import FastHttpUser, events, task

PLAN = json.loads(Path(os.environ["REHEARSAL_PLAN"]).read_text())
OUT = Path(os.environ["REHEARSAL_OUT"])
T0 = float(os.environ["REHEARSAL_T0"])
HOST = PLAN["portal_host"]
CSRF = "r" * 32  # a CSRF secret of our own: cookie and header carry the same 32 characters
WORDS = [
    "alimentaire",
    "scolaire",
    "personnes",
    "maraude",
    "vêtements",
    "familles",
    "courses",
    "numérique",
    "dons",
    "jardin",
    "",
    "",
    "",
]
POSTAL_CODES = [
    "75011",
    "69007",
    "13001",
    "59000",
    "31000",
    "33000",
    "44000",
    "67000",
    "35000",
    "34000",
]


def now() -> float:
    return time.time() - T0


def phase_at(t: float) -> dict:
    for phase in PLAN["phases"]:
        if phase["start"] <= t < phase["end"]:
            return phase
    return {"name": "after", "rates": {}}


# --- the signup ramp: each step judged when it ends ---------------------------------------------

RAMP = {"held": None, "saturated_at": None, "steps": []}
SIGNUP_TIMES: dict[int, list] = defaultdict(list)  # step -> [response ms or None (error)]


def step_of(t: float):
    phase = phase_at(t)
    return phase.get("step")


def judge_steps() -> None:
    """Every half second: a finished step is judged; the first one over the limits stops the
    ramp, and the signups then stay at the last step that held."""
    judged = set()
    limits = PLAN["limits"]
    while True:
        t = now()
        for phase in PLAN["phases"]:
            step = phase.get("step")
            if not step or step in judged or t < phase["end"] + 2:  # +2: answers still coming
                continue
            judged.add(step)
            samples = SIGNUP_TIMES.get(step, [])
            times = sorted(x for x in samples if x is not None)
            errors = sum(1 for x in samples if x is None)
            p95 = times[int(0.95 * (len(times) - 1))] if times else None
            error_share = errors / len(samples) if samples else 1.0
            offered = phase["rates"]["signup"]
            seconds = phase["end"] - phase["start"]
            entry = {
                "step": step,
                "offered_per_s": offered,
                "achieved_per_s": round(len(samples) / seconds, 1),
                "requests": len(samples),
                "errors": errors,
                "error_share": round(error_share, 4),
                "p50_ms": times[len(times) // 2] if times else None,
                "p95_ms": p95,
                "skipped": RAMP["saturated_at"] is not None,
            }
            held = (
                p95 is not None
                and p95 <= limits["p95_ms"]
                and error_share <= limits["errors"]
                and len(samples) >= 0.9 * offered * seconds
            )
            entry["held"] = held and RAMP["saturated_at"] is None
            if RAMP["saturated_at"] is None:
                if held:
                    RAMP["held"] = offered
                else:
                    RAMP["saturated_at"] = offered
            RAMP["steps"].append(entry)
        gevent.sleep(0.5)


def signup_rate(phase: dict) -> float:
    rate = phase["rates"].get("signup", 0)
    if phase.get("step") and RAMP["saturated_at"] is not None:
        return RAMP["held"] or PLAN["ramp"]["steps"][0]  # the ramp stopped: hold
    if "signup_share_of_held" in phase:
        held = RAMP["held"] or PLAN["ramp"]["steps"][0]
        return max(1.0, held * phase["signup_share_of_held"])
    return rate


# --- pacing ------------------------------------------------------------------------------------


class Pacer:
    """Start times at the plan's rate for one kind, shared by that kind's users."""

    def __init__(self, kind: str):
        self.kind = kind
        self.next_at = 0.0

    def rate(self, t: float) -> float:
        phase = phase_at(t)
        if self.kind == "signup":
            return signup_rate(phase)
        return phase["rates"].get(self.kind, 0)

    def wait(self) -> bool:
        """Sleep until this user's next start; False once the plan is over."""
        while True:
            t = now()
            if t >= PLAN["end"]:
                return False
            rate = self.rate(t)
            if rate <= 0:
                self.next_at = 0.0
                gevent.sleep(0.2)
                continue
            slot = max(self.next_at, t)  # behind schedule: no burst to catch up
            if slot - t > 1.0:  # enough users already hold the next second's slots
                gevent.sleep(0.2)
                continue
            self.next_at = slot + 1.0 / rate
            if slot > t:
                gevent.sleep(slot - t)
            return True


PACERS = {kind: Pacer(kind) for kind in ("home", "miss", "search", "mission", "signup", "apply")}


# --- what is recorded --------------------------------------------------------------------------

SECONDS: dict[tuple, list] = {}  # (second, name) -> [count, failures, 5xx, [ms...]]
BAD: list = []  # (answer time, name, status) of every 5xx and connection error
ACCEPTED: list = []  # addresses answered 202


@events.request.add_listener
def record(
    request_type,
    name,
    response_time,
    response_length,
    response=None,
    exception=None,
    start_time=None,
    **kwargs,
):
    t = (start_time or time.time()) - T0
    status = getattr(response, "status_code", 0) or 0
    cell = SECONDS.setdefault((int(t), name), [0, 0, 0, []])
    cell[0] += 1
    if exception is not None:
        cell[1] += 1
    if status >= 500 or status == 0:
        cell[2] += 1
        # When the answer came: a request queued behind a fault gets its 5xx once it starts.
        BAD.append((round(t + response_time / 1000, 3), name, status))
    cell[3].append(round(response_time, 1))
    if name == "signup":
        step = step_of(t)
        if step:
            ok = exception is None and status == 202
            SIGNUP_TIMES[step].append(response_time if ok else None)


@events.init.add_listener
def start_judge(environment, **kwargs):
    gevent.spawn(judge_steps)


@events.quitting.add_listener
def write_out(environment, **kwargs):
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for (second, name), (count, failures, bad, times) in sorted(SECONDS.items()):
        times.sort()

        def pct(p, times=times):
            return times[min(len(times) - 1, int(p * len(times)))] if times else None

        rows.append(
            {
                "t": second,
                "name": name,
                "count": count,
                "failures": failures,
                "5xx": bad,
                "p50": pct(0.5),
                "p95": pct(0.95),
                "p99": pct(0.99),
            }
        )
    (OUT / "per_second.json").write_text(json.dumps(rows))
    (OUT / "bad_answers.json").write_text(json.dumps(BAD))
    (OUT / "ramp.json").write_text(json.dumps(RAMP, indent=2))
    (OUT / "accepted_signups.txt").write_text("\n".join(ACCEPTED) + ("\n" if ACCEPTED else ""))


# --- the visitors ------------------------------------------------------------------------------


def client_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def edge_headers(**extra) -> dict:
    """What the CDN edge adds: the visitor's address, and the scheme it was reached over."""
    return {"Host": HOST, "X-Forwarded-For": client_ip(), "X-Forwarded-Proto": "https", **extra}


class Visitor(FastHttpUser):
    abstract = True
    kind = ""
    connection_timeout = 10.0
    network_timeout = 40.0  # above nginx's 35 s proxy timeouts

    def wait_time(self):
        return 0

    @task
    def one(self):
        if not PACERS[self.kind].wait():  # the plan is over: --run-time stops Locust
            gevent.sleep(1)
            return
        self.visit()


class Home(Visitor):
    kind, fixed_count = "home", 48

    def visit(self):
        self.client.get("/fr/", headers=edge_headers(), name="home")


class Miss(Visitor):
    kind, fixed_count = "miss", 8

    def visit(self):
        self.client.get(f"/fr/?v={uuid.uuid4().hex}", headers=edge_headers(), name="miss")


class Search(Visitor):
    kind, fixed_count = "search", 16

    def visit(self):
        query = f"postal_code={random.choice(POSTAL_CODES)}&radius_km={random.choice([5, 10, 30])}"
        word = random.choice(WORDS)
        if word:
            query += f"&q={word}"
        self.client.get(f"/api/v1/missions?{query}", headers=edge_headers(), name="search")


class MissionPage(Visitor):
    kind, fixed_count = "mission", 16

    def visit(self):
        pk, slug = random.choice(PLAN["missions"])
        self.client.get(f"/fr/missions/{pk}-{slug}/", headers=edge_headers(), name="mission")


class Signup(Visitor):
    kind, fixed_count = "signup", 96

    def visit(self):
        email = f"rh-{PLAN['run_id']}-{uuid.uuid4().hex[:12]}@rehearsal.example.org"
        body = {
            "email": email,
            "first_name": "Camille",
            "last_name": "Martin",
            "postal_code": random.choice(POSTAL_CODES),
            "birth_date": "1990-05-01",
            "consent": True,
        }
        headers = edge_headers(
            **{
                "Content-Type": "application/json",
                "X-CSRFToken": CSRF,
                "Cookie": f"csrftoken={CSRF}",
                "Origin": f"https://{HOST}",
            }
        )
        with self.client.post(
            "/api/v1/signup",
            data=json.dumps(body),
            headers=headers,
            name="signup",
            catch_response=True,
        ) as response:
            if response.status_code == 202:
                ACCEPTED.append(email)
                response.success()
            else:
                response.failure(f"status {response.status_code}")


APPLY_OK = re.compile(r"^(201|400|403|409)$")  # applied, full/closed, refused, already applied


class Apply(Visitor):
    kind, fixed_count = "apply", 8

    def visit(self):
        session = random.choice(PLAN["sessions"])
        pk = random.choice(PLAN["hot_missions"] if random.random() < 0.5 else PLAN["missions"])[0]
        headers = edge_headers(
            **{
                "Content-Type": "application/json",
                "X-CSRFToken": CSRF,
                "Cookie": f"csrftoken={CSRF}; sessionid={session}",
                "Origin": f"https://{HOST}",
                "Referer": f"https://{HOST}/fr/",
            }
        )
        with self.client.post(
            f"/api/v1/missions/{pk}/applications",
            data=json.dumps({"message": "Disponible"}),
            headers=headers,
            name="apply",
            catch_response=True,
        ) as response:
            if APPLY_OK.match(str(response.status_code)):
                response.success()
            else:
                response.failure(f"status {response.status_code}")

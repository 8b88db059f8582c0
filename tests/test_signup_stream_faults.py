"""The signup stream's faults on real services: gunicorn, `manage.py consume_signups`, a
PostgreSQL cluster and a Redis of the test's own (never the machine's), stopped or killed under
a load of signups.

* PostgreSQL stopped for 20 s: every request answers 202; once it is back, every accepted
  address has exactly one account and one confirmation email.
* The consumer SIGKILLed with a batch in hand: another one claims it; no loss, no duplicate.
* 300 concurrent signups of 60 addresses in mixed case: one account and one confirmation per
  address, the "already registered" email at most once per window.
* The stream's Redis SIGKILLed under load and restarted on its append-only file: with
  `appendfsync always` nothing accepted is lost; with `everysec`, only what was accepted in
  the last two seconds before the crash may be (the documented window).
"""

import collections
import datetime
import itertools
import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from django.db import connection

from accounts import signup_stream
from accounts.services import EXISTING_ACCOUNT_EMAIL_WINDOW
from portal.testing.servers import PostgresServer
from tests import factories as make
from tests.workers import CeleryWorker, RedisServer, WebServer, purge_broker, wait_until

# Rolled back, never flushed: the services under test have databases of their own.
pytestmark = pytest.mark.django_db
STREAM = "portal:signups"
DOMAIN = "faults.example.org"
BODY = {
    "first_name": "Camille",
    "last_name": "Martin",
    "postal_code": "69007",
    "birth_date": "1990-05-01",
    "consent": True,
}


class SignupConsumer(CeleryWorker):
    """`manage.py consume_signups` as a process of its own (killable like a worker)."""

    ready_marker = "consume_signups:"

    def __init__(self, name: str, batch: int = 500, **env):
        super().__init__(**env)
        self.name, self.batch = name, batch

    def command(self):
        return [
            sys.executable,
            "manage.py",
            "consume_signups",
            f"--name={self.name}",
            f"--batch={self.batch}",
            "--claim-idle-ms=500",
        ]


@pytest.fixture(scope="module")
def postgres(django_db_setup, django_db_blocker):
    """A copy of the test database (with the demo portals) in a cluster of our own."""
    with django_db_blocker.unblock():
        make.demo_portals()
        db = connection.settings_dict
        source = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    server = PostgresServer().start().load_from(source)
    yield server
    server.remove()


@pytest.fixture(scope="module")
def stream_redis(tmp_path_factory):
    """The stream's Redis, append-only file on; a test that kills it starts it again."""
    server = RedisServer(data_dir=tmp_path_factory.mktemp("stream"), appendfsync="everysec")
    yield server.start()
    server.stop()


def app_env(postgres, stream_redis, **extra) -> dict:
    return {
        "DATABASE_URL": postgres.url,
        "SIGNUP_STREAM": "true",
        "SIGNUP_STREAM_URL": stream_redis.url,
        "SIGNUP_RATE_PER_IP": "1000000/s",
        "SIGNUP_RATE_PER_EMAIL": "1000000/s",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@pytest.fixture(scope="module")
def stack(postgres, stream_redis):
    """gunicorn (2 workers) and one consumer on the private PostgreSQL and Redis."""
    env = app_env(postgres, stream_redis)
    with WebServer(workers=2, **env) as web, SignupConsumer("first", **env) as consumer:
        yield web, consumer
        consumer.kill()  # no graceful stop to wait for: nothing is left to write
        web.kill()
    purge_broker()  # the outbox kicks published while no email worker ran


class Signups:
    """Posts signups from threads, as browsers would; remembers every answer per address."""

    def __init__(self, url: str):
        self.url = url
        session = requests.Session()
        token = session.get(f"{url}/api/v1/csrf", headers={"Host": "localhost"}, timeout=5)
        self.csrf = token.json()["csrfToken"]
        self.answers: dict[str, list] = collections.defaultdict(list)
        self.lock = threading.Lock()
        self.counter = itertools.count()

    def post(self, email: str) -> int:
        headers = {
            "Host": "localhost",
            "Content-Type": "application/json",
            "X-CSRFToken": self.csrf,
            "Cookie": f"csrftoken={self.csrf}",
        }
        try:
            response = requests.post(
                f"{self.url}/api/v1/signup",
                data=json.dumps({**BODY, "email": email}),
                headers=headers,
                timeout=10,
            )
            status = response.status_code
        except requests.RequestException as error:
            status = type(error).__name__
        with self.lock:
            self.answers[email.lower()].append((time.time(), status))
        return status

    def load(self, seconds: float, threads: int = 4, prefix: str = "") -> None:
        """Distinct new addresses from `threads` threads for `seconds`."""
        deadline = time.monotonic() + seconds
        run = uuid.uuid4().hex[:6]

        def worker():
            while time.monotonic() < deadline:
                self.post(f"{prefix}{run}-{next(self.counter)}@{DOMAIN}")

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    def statuses(self) -> collections.Counter:
        return collections.Counter(s for answers in self.answers.values() for _, s in answers)

    def accepted(self) -> dict[str, float]:
        """Address -> when its first 202 came back."""
        return {
            email: min(t for t, s in answers if s == 202)
            for email, answers in self.answers.items()
            if any(s == 202 for _, s in answers)
        }


def drained(stream_redis, key: str = STREAM, timeout: float = 30) -> None:
    client = stream_redis.client()
    wait_until(
        lambda: client.xlen(key) == 0,
        timeout=timeout,
        interval=0.05,
        message=f"the stream still holds {client.xlen(key)} signups",
    )


def accounts_and_emails(postgres, emails) -> tuple[dict, dict]:
    """Per address: the number of accounts, and the templates of its outbox rows."""
    emails = list(emails)
    with psycopg.connect(postgres.url) as conn:
        users = collections.Counter(
            row[0]
            for row in conn.execute(
                "SELECT email FROM accounts_user WHERE email = ANY(%s)", [emails]
            )
        )
        outbox = collections.defaultdict(list)
        for to, template in conn.execute(
            "SELECT to_email, template FROM emails_outboundemail WHERE to_email = ANY(%s)",
            [emails],
        ):
            outbox[to].append(template)
    return users, outbox


def assert_one_account_and_one_confirmation(postgres, emails) -> None:
    users, outbox = accounts_and_emails(postgres, emails)
    wrong = {e: users[e] for e in emails if users[e] != 1}
    assert not wrong, f"{len(wrong)} addresses without exactly one account: {list(wrong)[:5]}"
    confirmations = {e: outbox[e].count("account_confirmation") for e in emails}
    wrong = {e: n for e, n in confirmations.items() if n != 1}
    assert not wrong, f"addresses without exactly one confirmation: {list(wrong.items())[:5]}"


def test_postgresql_stopped_for_20_seconds_costs_no_signup(stack, postgres, stream_redis):
    web, _ = stack
    signups = Signups(web.url)
    load = threading.Thread(target=signups.load, args=(25.0,))
    load.start()
    time.sleep(2)
    postgres.stop()
    stopped = time.monotonic()
    time.sleep(20)
    backlog = stream_redis.client().xlen(STREAM)
    postgres.start()
    restarted = time.monotonic()
    load.join()
    assert restarted - stopped >= 20
    assert backlog > 100, "the outage saw too little load to mean anything"
    assert set(signups.statuses()) == {202}, signups.statuses()
    drained(stream_redis)
    assert_one_account_and_one_confirmation(postgres, signups.accepted())


def test_a_consumer_killed_mid_batch_loses_nothing_and_sends_nothing_twice(postgres, stream_redis):
    """1,500 signups queued before any consumer runs: SIGKILL the first (batches of 100) with a
    batch read and not acknowledged; the second claims it after 500 ms and finishes. (A stream of
    its own: the module's running consumer stays out of it.)"""
    key = f"kill-test-{uuid.uuid4().hex[:6]}"
    env = app_env(postgres, stream_redis, SIGNUP_STREAM_KEY=key)
    client = stream_redis.client()
    run = uuid.uuid4().hex[:6]
    emails = [f"kill-{run}-{i}@{DOMAIN}" for i in range(1500)]
    pipe = client.pipeline(transaction=False)
    site = _localhost_site(postgres)
    for email in emails:
        pipe.xadd(key, signup_stream.packed(_entry(email, site)))
    pipe.execute()

    first = SignupConsumer("doomed", batch=100, **env).start()
    try:
        wait_until(
            lambda: (
                _count(postgres, f"kill-{run}-%") > 0
                and client.xpending(key, "writers")["pending"] > 0
            ),
            timeout=20,
            interval=0.005,
        )
    finally:
        first.kill()
    held = {c["name"].decode(): c["pending"] for c in client.xinfo_consumers(key, "writers")}
    written = _count(postgres, f"kill-{run}-%")
    assert held.get("doomed", 0) > 0, f"killed between batches ({held}); nothing to claim"
    assert written < len(emails), "the first consumer finished before it could be killed"

    with SignupConsumer("heir", **env):
        drained(stream_redis, key)
    assert client.xpending(key, "writers")["pending"] == 0
    assert_one_account_and_one_confirmation(postgres, emails)
    _, outbox = accounts_and_emails(postgres, emails)
    assert all(outbox[e] == ["account_confirmation"] for e in emails)
    purge_broker()


def test_300_concurrent_signups_of_60_addresses_in_mixed_case(stack, postgres, stream_redis):
    web, _ = stack
    signups = Signups(web.url)
    run = uuid.uuid4().hex[:6]
    addresses = [f"mixed-{run}-{i}@{DOMAIN}" for i in range(60)]
    spellings = [
        variant(address, n) for n in range(5) for address in addresses
    ]  # each address 5 times, in 5 spellings
    started = time.time()
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(signups.post, spellings))
    ended = time.time()
    assert collections.Counter(statuses) == {202: 300}
    drained(stream_redis)
    assert_one_account_and_one_confirmation(postgres, addresses)
    _, outbox = accounts_and_emails(postgres, addresses)
    windows = int(ended // EXISTING_ACCOUNT_EMAIL_WINDOW) - int(
        started // EXISTING_ACCOUNT_EMAIL_WINDOW
    )
    for address in addresses:
        already = outbox[address].count("account_exists")
        assert 1 <= already <= 1 + windows, (address, outbox[address])


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_the_stream_redis_killed_and_restarted_under_load(
    stack, postgres, stream_redis, appendfsync
):
    """SIGKILL (a host crash, worse than a restart), then the same port and directory."""
    web, _ = stack
    stream_redis.client().config_set("appendfsync", appendfsync)
    signups = Signups(web.url)
    load = threading.Thread(target=signups.load, args=(3.0,), kwargs={"prefix": "r-"})
    load.start()
    time.sleep(1.5)
    stream_redis.kill()
    crashed = time.time()
    time.sleep(0.3)
    stream_redis.start()  # everysec again, from its command line
    load.join()
    assert set(signups.statuses()) == {202}, signups.statuses()
    drained(stream_redis)
    accepted = signups.accepted()
    users, _ = accounts_and_emails(postgres, accepted)
    lost = {email: at for email, at in accepted.items() if users[email] == 0}
    if appendfsync == "always":
        assert not lost, f"{len(lost)} of {len(accepted)} accepted signups lost"
    else:
        # everysec: the AOF is fsynced once a second (two at worst, when a fsync is slow).
        assert all(crashed - at <= 2.0 for at in lost.values()), lost
    found = {email for email in accepted if users[email]}
    assert_one_account_and_one_confirmation(postgres, found)
    print(f"appendfsync {appendfsync}: {len(lost)} of {len(accepted)} accepted signups lost")


def variant(address: str, n: int) -> str:
    local, domain = address.split("@")
    spell = [str.lower, str.upper, str.title, str.swapcase, lambda s: s[:1].upper() + s[1:]]
    return f"{spell[n](local)}@{spell[(n + 1) % 5](domain)}"


def _localhost_site(postgres) -> int:
    with psycopg.connect(postgres.url) as conn:
        return conn.execute(
            "SELECT id FROM wagtailcore_site WHERE hostname = 'localhost'"
        ).fetchone()[0]


def _entry(email: str, site: int) -> dict:
    return {
        "kind": "signup",
        "email": email,
        "site": str(site),
        "language": "fr",
        "next": "",
        "at": datetime.datetime.now(datetime.UTC).isoformat(),
        "first_name": "Camille",
        "last_name": "Martin",
        "postal_code": "69007",
        "birth_date": "1990-05-01",
        "phone": "",
    }


def _count(postgres, like: str) -> int:
    with psycopg.connect(postgres.url) as conn:
        return conn.execute(
            "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [like]
        ).fetchone()[0]

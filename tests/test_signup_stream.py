"""Signups through the Redis stream (accounts.signup_stream, accounts.signup_writer), in
process: the accept path runs no SQL, the writer makes one account and one email per address,
a replayed batch changes nothing, and the fallbacks answer as promised."""

import html
import json
import time
import uuid

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from redis import connection as redis_connection

from accounts import services, signup_stream
from accounts.models import User
from accounts.signup_writer import Consumer, decode, write
from emails.models import OutboundEmail
from tenants.models import PortalSettings
from tests.factories import client_for
from tests.test_accounts_signup import API, VALID  # the same signup, through the stream
from tests.workers import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream(settings):
    """The stream on, under a key of this test's own on the sessions Redis."""
    settings.SIGNUP_STREAM = True
    settings.SIGNUP_STREAM_KEY = f"test-signups-{uuid.uuid4().hex[:8]}"
    redis = signup_stream.client()
    yield redis
    keys = [settings.SIGNUP_STREAM_KEY, *redis.keys(f"{settings.SIGNUP_STREAM_KEY}:*")]
    redis.delete(*keys)


def post(client, payload, **extra):
    return client.post(API, json.dumps(payload), content_type="application/json", **extra)


def consume(**options) -> int:
    consumer = Consumer("test", **options)
    consumer.ensure_group()
    total = 0
    while count := consumer.run_once(block_ms=1):
        total += count
    return total


def templates(email=None):
    rows = OutboundEmail.objects.order_by("pk")
    if email:
        rows = rows.filter(to_email=email)
    return list(rows.values_list("template", flat=True))


def test_accepting_runs_no_sql_and_the_writer_makes_the_account(client, demo, stream):
    warm = {**VALID, "email": "warm-up@example.org"}
    post(client, warm, HTTP_HOST="covid19.localhost")  # the host map, the switches
    with CaptureQueriesContext(connection) as queries:
        response = post(client, {**VALID, "language": "en"}, HTTP_HOST="covid19.localhost")
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert not User.objects.filter(email="camille.martin@example.com").exists()
    assert stream.xlen(signup_stream.stream_key()) == 2

    assert consume() == 2
    user = User.objects.get(email="camille.martin@example.com")
    assert user.signup_site == demo["covid19.localhost"] and user.signed_up_publicly
    assert user.email_confirmed_at is None and not user.has_usable_password()
    assert (user.first_name, user.postal_code, str(user.birth_date)) == (
        "Camille",
        "69007",
        "1990-05-01",
    )
    email = OutboundEmail.objects.get(to_email=user.email)
    assert (email.template, email.language, email.idempotency_key) == (
        "account_confirmation",
        "en",
        f"signup-confirmation:{user.pk}",
    )
    assert email.context["action_path"].startswith("/en/compte/confirmer/")
    # Acknowledged entries are deleted: the stream holds only what is not written yet.
    assert stream.xlen(signup_stream.stream_key()) == 0
    assert signup_stream.stats()["length"] == 0


def test_the_confirmation_link_written_by_the_batch_signs_in(client, demo, stream):
    post(client, VALID)
    consume()
    email = OutboundEmail.objects.get(template="account_confirmation")
    response = client.post(email.context["action_path"])
    assert response.status_code == 302
    assert User.objects.get().email_confirmed_at is not None


def test_repeats_get_one_already_registered_email_per_window(client, demo, stream):
    for case in (
        "camille.martin@example.com",
        "CAMILLE.MARTIN@example.com",
        "Camille.Martin@Example.com",
    ):
        assert post(client, {**VALID, "email": case}).status_code == 202
    consume()
    for _ in range(2):  # later batches, same window
        post(client, VALID)
        consume()
    assert User.objects.filter(email="camille.martin@example.com").count() == 1
    assert templates() == ["account_confirmation", "account_exists"]


def test_an_address_registered_before_gets_the_already_registered_email(client, demo, stream):
    services.signup(site=demo["localhost"], language="fr", data=_data("old@example.org"))
    post(client, {**VALID, "email": "Old@Example.org"})
    consume()
    assert User.objects.filter(email="old@example.org").count() == 1
    assert templates("old@example.org") == ["account_confirmation", "account_exists"]


def test_a_replayed_batch_writes_nothing_twice(client, demo, stream):
    """A consumer that committed and died before XACK: the next one writes the same entries."""
    for address in ("a@example.org", "b@example.org", "A@example.org"):
        post(client, {**VALID, "email": address})
    raw = stream.xrange(signup_stream.stream_key())
    entries = decode(raw)
    first = write(entries)
    assert (first.created, first.existing, first.emails) == (2, 1, 3)
    again = write(entries)
    assert (again.created, again.existing, again.emails) == (0, 1, 0)
    assert User.objects.filter(email__in=["a@example.org", "b@example.org"]).count() == 2
    assert templates("a@example.org") == ["account_confirmation", "account_exists"]
    assert templates("b@example.org") == ["account_confirmation"]


def test_an_entry_appended_field_by_field_is_still_written(client, demo, stream):
    """Entries spread over the stream's fields (what web processes appended before the
    one-field entry) may wait in the stream during a deploy: the consumer reads both."""
    post(client, {**VALID, "email": "new-form@example.org"})
    fields = signup_stream.entry(
        "signup",
        site=demo["localhost"],
        language="fr",
        email="Old-Form@example.org",
        **{k: VALID[k] for k in ("first_name", "last_name", "postal_code", "birth_date")},
    )
    stream.xadd(signup_stream.stream_key(), fields)
    assert [e for _, e in decode(stream.xrange(signup_stream.stream_key()))][1] == fields
    assert consume() == 2
    assert templates("old-form@example.org") == ["account_confirmation"]
    assert templates("new-form@example.org") == ["account_confirmation"]


def test_entries_of_a_dead_consumer_are_claimed(client, demo, stream):
    for i in range(3):
        post(client, {**VALID, "email": f"claimed-{i}@example.org"})
    dead = Consumer("dead")
    dead.ensure_group()
    assert len(dead.read(block_ms=1)) == 3  # read, never acknowledged
    assert consume(claim_idle_ms=10_000) == 0  # not idle long enough: still the dead one's
    time.sleep(0.05)
    assert consume(claim_idle_ms=20) == 3
    assert User.objects.filter(email__startswith="claimed-").count() == 3
    assert stream.xpending(signup_stream.stream_key(), signup_stream.GROUP)["pending"] == 0


def test_a_failed_batch_stays_pending_and_is_written_next_time(client, demo, stream, monkeypatch):
    post(client, VALID)
    consumer = Consumer("retry")
    consumer.ensure_group()

    def broken(users):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("accounts.signup_writer.insert_accounts", broken)
    with pytest.raises(OperationalError):
        consumer.run_once(block_ms=1)
    monkeypatch.undo()
    assert not User.objects.filter(email="camille.martin@example.com").exists()
    assert consumer.run_once(block_ms=1) == 1
    assert User.objects.filter(email="camille.martin@example.com").exists()


def test_stream_unwritable_falls_back_to_the_synchronous_path(client, demo, stream, settings):
    settings.SIGNUP_STREAM_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    response = post(client, VALID)
    assert response.status_code == 202
    assert User.objects.filter(email="camille.martin@example.com").exists()
    assert templates() == ["account_confirmation"]


def test_stream_and_database_both_away_answer_503_with_retry_after(
    client, demo, stream, settings, monkeypatch
):
    settings.SIGNUP_STREAM_URL = f"redis://127.0.0.1:{free_port()}/0"

    def database_away(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "signup", database_away)
    response = post(client, VALID)
    assert response.status_code == 503
    assert response["Retry-After"] == str(signup_stream.RETRY_AFTER_SECONDS)
    assert response.json()["error"] == "unavailable"
    page = client_for().post(
        "/fr/inscription/", {**VALID, "consent": "on"}, HTTP_ORIGIN="http://localhost"
    )
    assert page.status_code == 503 and page["Retry-After"]


def test_closed_signups_are_refused_before_the_stream(client, demo, stream):
    row = PortalSettings.for_site(demo["localhost"])
    row.signups_open = False
    row.save()
    response = post(client, VALID)
    assert response.status_code == 503 and response.json()["error"] == "signups_closed"
    assert stream.xlen(signup_stream.stream_key()) == 0


def test_html_form_goes_through_the_stream(demo, stream):
    page = client_for().post(
        "/fr/inscription/", {**VALID, "consent": "on"}, HTTP_ORIGIN="http://localhost"
    )
    assert page.status_code == 202
    assert stream.xlen(signup_stream.stream_key()) == 1
    consume()
    assert User.objects.filter(email="camille.martin@example.com").exists()


def test_a_signin_link_asked_right_after_signup_is_sent(client, demo, stream):
    post(client, VALID)
    response = client.post("/fr/compte/connexion/lien/", {"email": "camille.martin@example.com"})
    assert response.status_code == 200
    assert not OutboundEmail.objects.exists()  # the account is not written yet...
    consume()
    # ...and the link follows the confirmation, written in the same batch.
    assert templates() == ["account_confirmation", "signin_link"]


def test_a_signin_link_waits_for_a_signup_another_consumer_holds(client, demo, stream):
    """Two consumers: the signup is read by one and not yet written when the other reads the
    sign-in entry that follows it; that one appends it again instead of dropping it."""
    post(client, VALID)
    holder = Consumer("holder", wait_ms=1)
    holder.ensure_group()
    assert len(holder.read(block_ms=1)) == 1  # read, not written: pending with `holder`
    client.post("/fr/compte/connexion/lien/", {"email": "camille.martin@example.com"})
    other = Consumer("other", wait_ms=1)
    other.mine_first = False
    assert other.run_once(block_ms=1) == 1
    assert not OutboundEmail.objects.exists()
    assert stream.xlen(signup_stream.stream_key()) == 2  # the signup and the sign-in again
    holder.mine_first = True
    assert holder.run_once(block_ms=1) == 1  # the signup, written
    assert other.run_once(block_ms=1) == 1  # the sign-in, now for an account
    assert templates() == ["account_confirmation", "signin_link"]
    assert stream.xlen(signup_stream.stream_key()) == 0


def test_a_signin_link_for_an_unknown_address_stays_silent(client, demo, stream):
    client.post("/fr/compte/connexion/lien/", {"email": "nobody@example.org"})
    assert stream.xlen(signup_stream.stream_key()) == 0
    assert not OutboundEmail.objects.exists()


def test_healthz_reports_the_backlog_and_degrades_past_the_lag(client, demo, stream, settings):
    post(client, VALID)
    body = client.get("/healthz").json()
    assert body["signups"]["status"] == "ok" and body["signups"]["length"] == 1
    settings.SIGNUP_STREAM_MAX_LAG = 0.01
    time.sleep(0.02)
    response = client.get("/healthz")
    assert response.status_code == 200  # the page keeps accepting: reported, not a 503
    signups = response.json()["signups"]
    assert signups["status"] == "degraded" and signups["oldest_age_seconds"] > 0.01
    consume()
    assert client.get("/healthz").json()["signups"]["length"] == 0


def _data(email):
    return {
        "email": email,
        "first_name": "Old",
        "last_name": "Timer",
        "postal_code": "69007",
        "birth_date": "1980-01-01",
    }


def test_the_admin_home_warns_superusers_when_signups_lag(
    admin_client, client, demo, stream, settings
):
    post(client, VALID)
    page = admin_client.get("/admin/", HTTP_HOST="localhost")
    assert page.status_code == 200
    text = html.unescape(page.text)  # the admin speaks French (the catalogue is compiled)
    assert "Inscriptions en attente d'enregistrement" in text and "À jour." in text
    settings.SIGNUP_STREAM_MAX_LAG = 0.01
    time.sleep(0.02)
    text = html.unescape(admin_client.get("/admin/", HTTP_HOST="localhost").text)
    assert "En retard : la plus ancienne inscription attend depuis" in text
    assert "1 inscription dans le flux" in text


@pytest.fixture
def redis_commands(monkeypatch):
    """The names of the Redis commands this process sends (calls go through unchanged)."""
    sent = []
    connection_class = redis_connection.AbstractConnection
    send_command, pack_commands = connection_class.send_command, connection_class.pack_commands

    def traced_send_command(conn, *args, **kwargs):
        sent.append(str(args[0]).upper())
        return send_command(conn, *args, **kwargs)

    def traced_pack_commands(conn, commands):
        sent.extend(str(command[0]).upper() for command in commands)
        return pack_commands(conn, commands)

    monkeypatch.setattr(connection_class, "send_command", traced_send_command)
    monkeypatch.setattr(connection_class, "pack_commands", traced_pack_commands)
    return sent


def test_limits_and_append_are_one_round_trip(client, demo, stream, settings, redis_commands):
    """Both rate-limit counters, the XADD and the marker in one script (EVALSHA): what a
    signup costs Redis on the accept path, and it is all on the stream's Redis."""
    post(client, {**VALID, "email": "warm-up@example.org"})
    redis_commands.clear()
    assert post(client, VALID).status_code == 202
    touched = {"EVALSHA", "EVAL", "XADD", "INCR", "SET", "EXPIRE", "MULTI", "EXEC", "SCRIPT"}
    assert [name for name in redis_commands if name in touched] == ["EVALSHA"]
    counters = stream.keys(f"{signup_stream.stream_key()}:rl:*")
    assert len(counters) == 3  # the IP's (two signups) and each address's
    assert sorted(int(stream.get(key)) for key in counters) == [1, 1, 2]


def test_the_ip_limit_through_the_stream(client, demo, stream, settings):
    settings.SIGNUP_RATE_PER_IP = "3/m"
    codes = [post(client, {**VALID, "email": f"v{i}@example.com"}).status_code for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    assert stream.xlen(signup_stream.stream_key()) == 3  # the refused ones were not appended
    limited = post(client, {**VALID, "email": "v9@example.com"})
    assert limited.json()["error"] == "rate_limited"
    assert 0 < int(limited["Retry-After"]) <= 61
    assert limited.json()["retry_after"] == int(limited["Retry-After"])
    # The page's form shares the counter and says it in the page.
    page = client_for().post(
        "/fr/inscription/", {**VALID, "consent": "on"}, HTTP_ORIGIN="http://localhost"
    )
    assert page.status_code == 429 and page["Retry-After"]


def test_the_address_limit_through_the_stream_across_ips(client, demo, stream, settings):
    settings.SIGNUP_RATE_PER_EMAIL = "2/h"
    codes = [post(client, VALID, REMOTE_ADDR=f"203.0.113.{i}").status_code for i in range(3)]
    assert codes == [202, 202, 429]
    assert stream.xlen(signup_stream.stream_key()) == 2
    consume()
    assert User.objects.filter(email="camille.martin@example.com").count() == 1


def test_the_stream_redis_away_counts_in_the_cache_instead(client, demo, stream, settings):
    """Nothing was counted on the stream's Redis: the synchronous path's limiter (the cache
    Redis) still holds the line."""
    settings.SIGNUP_STREAM_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    settings.SIGNUP_RATE_PER_IP = "1/m"
    codes = [post(client, {**VALID, "email": f"d{i}@example.com"}).status_code for i in (1, 2)]
    assert codes == [202, 429]
    assert User.objects.filter(email="d1@example.com").exists()


def test_the_bench_fills_the_stream_with_entries_the_consumer_reads():
    """bench/signup_stream.py packs entries without Django loaded: the same entry."""
    from bench.signup_stream import packed  # noqa: PLC0415

    fields = {"kind": "signup", "email": "a@example.org", "first_name": "Zoé"}
    assert packed(fields) == signup_stream.packed(fields)

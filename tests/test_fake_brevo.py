"""Tests for tests.fake_brevo, driven through django-anymail's real Brevo backend.

They pin down both the fake's behaviour and what anymail raises for each failure
mode, which the sending code relies on for its retry decisions. No database.
"""

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRequestsAPIError
from anymail.message import AnymailMessage
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from tests.fake_brevo import FakeBrevo

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKEND = "anymail.backends.brevo.EmailBackend"


@pytest.fixture
def fake_brevo():
    with FakeBrevo(api_key="test-key") as fake:
        yield fake


@pytest.fixture
def brevo(settings, fake_brevo):
    """Route Django mail to the fake through anymail's Brevo backend."""
    settings.EMAIL_BACKEND = BACKEND
    settings.ANYMAIL = {
        "BREVO_API_KEY": "test-key",
        "BREVO_API_URL": fake_brevo.url,
        "REQUESTS_TIMEOUT": 2,
    }
    return fake_brevo


def make_message(to="alice@example.org", subject="Hello", **kwargs):
    msg = EmailMultiAlternatives(
        subject=subject,
        body="Plain body",
        from_email="Portal <portal@example.org>",
        to=[to],
        **kwargs,
    )
    msg.attach_alternative("<p>HTML body</p>", "text/html")
    return msg


def test_single_send_is_recorded(brevo):
    msg = make_message()
    assert msg.send() == 1

    assert brevo.api_calls == 1
    assert brevo.requests_count == 1
    [record] = brevo.messages
    assert record["to"] == ["alice@example.org"]
    assert record["sender"] == "portal@example.org"
    assert record["subject"] == "Hello"
    assert record["html"] == "<p>HTML body</p>"
    assert record["text"] == "Plain body"
    assert json.loads(record["raw_body"])["to"] == [{"email": "alice@example.org"}]
    assert record["message_id"].endswith("@smtp-relay.mailin.fr>")
    assert msg.anymail_status.message_id == record["message_id"]
    assert msg.anymail_status.status == {"queued"}


def test_batch_send_uses_one_call_with_message_versions(brevo):
    msg = AnymailMessage(
        subject="Hi {{ params.name }}",
        body="Hello {{ params.name }}",
        from_email="portal@example.org",
        to=["a@example.org", "b@example.org"],
        merge_data={"a@example.org": {"name": "A"}, "b@example.org": {"name": "B"}},
        merge_global_data={"site": "portal"},
        merge_headers={
            "a@example.org": {"X-Idempotency-Key": "k-a"},
            "b@example.org": {"X-Idempotency-Key": "k-b"},
        },
    )
    msg.send()

    assert brevo.api_calls == 1
    messages = brevo.messages
    assert len(messages) == 2
    body = json.loads(messages[0]["raw_body"])
    assert "to" not in body
    assert [v["to"] for v in body["messageVersions"]] == [
        [{"email": "a@example.org"}],
        [{"email": "b@example.org"}],
    ]
    by_to = {m["to"][0]: m for m in messages}
    assert by_to["a@example.org"]["params"] == {"site": "portal", "name": "A"}
    assert by_to["b@example.org"]["idempotency_key"] == "k-b"

    recipients = msg.anymail_status.recipients
    assert recipients["a@example.org"].message_id == by_to["a@example.org"]["message_id"]
    assert recipients["b@example.org"].message_id == by_to["b@example.org"]["message_id"]
    assert len(msg.anymail_status.message_id) == 2  # a set when ids differ
    assert brevo.duplicates == []


def test_wrong_api_key_is_rejected(brevo, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_KEY": "wrong"}
    with pytest.raises(AnymailAPIError) as excinfo:
        make_message().send()
    assert excinfo.value.status_code == 401
    assert excinfo.value.response.json() == {"code": "unauthorized", "message": "Key not found"}
    assert brevo.requests_count == 1
    assert brevo.api_calls == 0
    assert brevo.messages == []


def test_fail_next_returns_server_errors_then_recovers(brevo):
    brevo.fail_next(2, status=500)
    for _ in range(2):
        with pytest.raises(AnymailRequestsAPIError) as excinfo:
            make_message().send()
        assert excinfo.value.status_code == 500
        assert excinfo.value.response.json()["code"] == "internal_error"
    assert brevo.messages == []

    make_message().send()
    assert len(brevo.messages) == 1
    assert brevo.requests_count == 3
    assert brevo.api_calls == 1


def test_rate_limit_carries_retry_after(brevo):
    brevo.fail_next(1, status=429)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        make_message().send()
    assert excinfo.value.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "1"


def test_invalid_recipient_is_a_permanent_400(brevo):
    # anymail only checks syntax; the fake refuses the reserved ".invalid" TLD.
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        make_message(to="someone@example.invalid").send()
    assert excinfo.value.status_code == 400
    assert excinfo.value.response.json() == {
        "code": "invalid_parameter",
        "message": "email is not valid",
    }
    assert brevo.messages == []

    make_message(to="admin@localhost").send()  # demo addresses are fine
    assert brevo.messages[0]["to"] == ["admin@localhost"]


def test_address_without_at_never_reaches_the_api(brevo):
    with pytest.raises(AnymailInvalidAddress):
        make_message(to="not-an-email").send()
    assert brevo.requests_count == 0


def test_timeout_raises_but_message_was_sent(brevo, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.2}
    brevo.delay_next(1, 0.6)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        make_message(headers={"X-Idempotency-Key": "slow-1"}).send()
    err = excinfo.value
    assert isinstance(err, requests.Timeout)  # ReadTimeout mixed into the class
    assert err.status_code is None
    assert err.response is None
    # Accepted before the delay: a blind retry would send the mail twice.
    assert [m["idempotency_key"] for m in brevo.messages] == ["slow-1"]

    make_message(headers={"X-Idempotency-Key": "slow-1"}).send()  # naive retry
    assert brevo.duplicates == ["slow-1"]


def test_connection_refused_is_a_connection_error(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = BACKEND
    settings.ANYMAIL = {"BREVO_API_KEY": "k", "BREVO_API_URL": f"http://127.0.0.1:{port}/v3/"}
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        make_message().send()
    assert isinstance(excinfo.value, requests.ConnectionError)
    assert excinfo.value.status_code is None


def test_idempotency_duplicates(brevo):
    make_message(headers={"X-Idempotency-Key": "k1"}).send()
    make_message(headers={"x-idempotency-key": "k2"}).send()
    assert brevo.duplicates == []
    make_message(headers={"X-IDEMPOTENCY-KEY": "k1"}).send()
    assert brevo.duplicates == ["k1"]
    make_message(headers={"X-Idempotency-Key": "k1"}).send()
    assert brevo.duplicates == ["k1"]  # listed once however often it repeats


def test_batch_top_level_key_counts_once_per_call(brevo):
    def send():
        AnymailMessage(
            subject="s",
            body="b",
            from_email="portal@example.org",
            to=["a@example.org", "b@example.org"],
            merge_data={},
            headers={"X-Idempotency-Key": "batch-1"},
        ).send()

    send()
    assert len(brevo.messages) == 2
    assert brevo.duplicates == []
    send()
    assert brevo.duplicates == ["batch-1"]


def test_connection_reuse_and_concurrency(brevo):
    connection = mail.get_connection()
    assert connection.send_messages([make_message(subject=f"m{i}") for i in range(5)]) == 5
    assert brevo.connections_count == 1  # HTTP/1.1 keep-alive

    errors = []

    def worker(n):
        try:
            for i in range(5):
                make_message(to=f"user{n}-{i}@example.org").send()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    messages = brevo.messages
    assert len(messages) == 45
    assert len({m["message_id"] for m in messages}) == 45


def test_bad_payloads_are_rejected(fake_brevo):
    url = fake_brevo.url + "smtp/email"
    headers = {"api-key": "test-key"}
    good = {
        "sender": {"email": "portal@example.org"},
        "to": [{"email": "a@example.org"}],
        "subject": "s",
        "textContent": "t",
    }
    bad = [
        "{not json",
        json.dumps({k: v for k, v in good.items() if k != "to"}),
        json.dumps({k: v for k, v in good.items() if k != "sender"}),
        json.dumps({k: v for k, v in good.items() if k != "subject"}),
        json.dumps({k: v for k, v in good.items() if k != "textContent"}),
    ]
    for body in bad:
        resp = requests.post(url, data=body, headers=headers, timeout=2)
        assert resp.status_code == 400, body
        assert resp.json()["code"] == "bad_request"
    resp = requests.post(url, json=good, headers=headers, timeout=2)
    assert resp.status_code == 201
    assert set(resp.json()) == {"messageId"}
    assert fake_brevo.requests_count == 6
    assert fake_brevo.api_calls == 1


def test_control_api(brevo):
    base = brevo.base_url + "_fake/"
    make_message(headers={"X-Idempotency-Key": "c1"}).send()
    make_message(headers={"X-Idempotency-Key": "c1"}).send()

    stats = requests.get(base + "stats", timeout=2).json()
    assert stats["messages"] == 2
    assert stats["api_calls"] == 2
    assert stats["requests"] == 2  # control calls are not counted
    assert stats["duplicates"] == ["c1"]
    listed = requests.get(base + "messages", timeout=2).json()
    assert [m["subject"] for m in listed] == ["Hello", "Hello"]

    assert requests.post(base + "fail", json={"count": 1, "status": 503}, timeout=2).ok
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        make_message().send()
    assert excinfo.value.status_code == 503

    assert requests.post(base + "delay", json={"count": 1, "seconds": 0.05}, timeout=2).ok
    started = time.monotonic()
    make_message().send()
    assert time.monotonic() - started >= 0.05

    assert requests.post(base + "reset", timeout=2).ok
    stats = requests.get(base + "stats", timeout=2).json()
    assert (stats["messages"], stats["api_calls"], stats["requests"]) == (0, 0, 0)
    assert stats["duplicates"] == []
    assert (
        requests.post(base + "fail", json={"count": 1, "status": 200}, timeout=2).status_code == 400
    )


def test_wait_for_messages(brevo):
    timer = threading.Timer(0.05, lambda: make_message().send())
    timer.start()
    assert len(brevo.wait_for_messages(1, timeout=2)) == 1
    timer.join()
    with pytest.raises(TimeoutError):
        brevo.wait_for_messages(2, timeout=0.05)


def test_cli_runs_in_foreground():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "tests.fake_brevo", "--port", str(port), "--api-key", "K"]
    with subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        try:
            deadline = time.monotonic() + 5
            while True:
                try:
                    stats = requests.get(f"http://127.0.0.1:{port}/_fake/stats", timeout=1).json()
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.02)
            assert stats["messages"] == 0
            resp = requests.post(
                f"http://127.0.0.1:{port}/v3/smtp/email",
                json={},
                headers={"api-key": "bad"},
                timeout=2,
            )
            assert resp.status_code == 401
        finally:
            proc.terminate()
            output, _ = proc.communicate(timeout=5)
    assert b"Fake Brevo on http://127.0.0.1:" in output


def test_request_idempotency_key_is_answered_once_like_brevo(brevo, fake_brevo):
    def send():
        msg = EmailMultiAlternatives("Hi", "text", "from@example.com", ["to@example.com"])
        msg.extra_headers = {"idempotencyKey": "3f0c6b1e-0000-4000-8000-000000000001"}
        msg.send()
        return msg.anymail_status.message_id

    first, second = send(), send()
    assert first == second
    assert len(fake_brevo.messages) == 1
    assert fake_brevo.replays == 1

"""The write-behind side of the signup stream (accounts.signup_stream): batches of accepted
signups become accounts and outbox rows, then the stream entries are acknowledged.

One batch is one transaction: one multi-row `INSERT … ON CONFLICT (email) DO NOTHING
RETURNING`, then the confirmation emails of the new accounts and the "you already have an
account" emails of the others in one more INSERT, COMMIT, and only then XACK. A consumer that
dies anywhere in between leaves its entries pending; another one claims them (XAUTOCLAIM) and
writes them again, which changes nothing: the address is unique, an account remembers the
instant of the signup that made it (date_joined), and every email has its idempotency key.
"""

import datetime
import functools
import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone
from wagtail.models import Site

from emails.outbox import queue_emails
from portal import bulk

from . import services, signup_stream
from .models import User

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.01
# How long a sign-in entry waits for its signup held by another consumer: beyond the time a
# dead consumer's entries take to be claimed (SIGNUP_STREAM_CLAIM_IDLE_MS, 30 s).
SIGNIN_WAIT = datetime.timedelta(minutes=2)


@dataclass
class Written:
    created: int = 0
    existing: int = 0
    emails: int = 0
    signin_links: int = 0
    skipped: list = field(default_factory=list)
    # Sign-in entries whose signup another consumer holds, not yet committed: appended again.
    requeue: list = field(default_factory=list)


class NewAccount(NamedTuple):
    """An account this batch has just inserted, as tokens.state and the link emails read it
    (the defaults are the model's for a new account): no model instance per row."""

    pk: int
    email: str
    first_name: str
    password: str
    date_joined: datetime.datetime
    email_confirmed_at: None = None
    last_login: None = None
    pending_email: str = ""
    is_active: bool = True
    auth_epoch: int = 0


def insert_accounts(rows: list[dict]) -> dict[str, int]:
    """One INSERT for all `rows` (services.public_account's, distinct addresses); {email: id}
    of those it created."""
    created = bulk.insert(
        User, rows, conflict="ON CONFLICT (email) DO NOTHING", returning="id, email"
    )
    return {email: pk for pk, email in created}


def account_data(fields: dict) -> dict:
    return {
        "email": fields["email"],
        "first_name": fields.get("first_name", ""),
        "last_name": fields.get("last_name", ""),
        "postal_code": fields.get("postal_code", ""),
        "birth_date": datetime.date.fromisoformat(fields["birth_date"]),
        "phone": fields.get("phone", ""),
    }


@functools.cache
def pattern(purpose: str, language: str) -> str:
    """Per process: the consumer's URLs do not change while it runs."""
    return services.link_pattern(purpose, language)


def confirmation(user, site: Site, fields: dict) -> dict:
    return services.link_email(
        user,
        "account_confirmation",
        "confirm",
        services.confirmation_key(user),
        site,
        fields["language"],
        next_url=fields.get("next", ""),
        pattern=pattern("confirm", fields["language"]),
        valid_hours=settings.ACCOUNT_CONFIRMATION_MAX_AGE // 3600,
    )


def already_registered(user, site: Site, fields: dict) -> dict:
    """One per address per window, the window being that of the signup's acceptance (not of
    the write): a replay hours later lands on the same key."""
    window = int(
        signup_stream.accepted_at(fields).timestamp() // services.EXISTING_ACCOUNT_EMAIL_WINDOW
    )
    return services.link_email(
        user,
        "account_exists",
        "login",
        f"signup-existing:{user.pk}:{window}",
        site,
        fields["language"],
        next_url=fields.get("next", ""),
        pattern=pattern("login", fields["language"]),
    )


def write(entries: list[tuple[str, dict]]) -> Written:
    """Write a batch of decoded stream entries in one transaction (see the module docstring)."""
    done = Written()
    sites = Site.objects.in_bulk({int(fields["site"]) for _, fields in entries})
    first: dict[str, tuple[dict, dict]] = {}  # the first signup of each address in the batch
    repeats: list[dict] = []
    signins: list[dict] = []
    for entry_id, fields in entries:
        site = sites.get(int(fields["site"]))
        if site is None:  # the portal was deleted since: nothing to sign up to
            done.skipped.append(entry_id)
        elif fields["kind"] == "signin":
            signins.append(fields)
        elif fields["email"] in first:
            repeats.append(fields)
        else:
            row = services.public_account(
                site_id=site.pk,
                language=fields["language"],
                data=account_data(fields),
                at=signup_stream.accepted_at(fields),
            )
            first[row["email"]] = (fields, row)
    # A sign-in entry follows its signup in the stream, but with several consumers that
    # signup may sit in another one's batch, not committed yet. Its "waiting" marker, read
    # before the account is looked for, tells (the marker goes only after the commit).
    others = {f["email"] for f in signins} - first.keys() - {f["email"] for f in repeats}
    waiting = signup_stream.waiting(others) if others else set()
    with transaction.atomic():
        created = insert_accounts([row for _, row in first.values()])
        accounts: dict[str, User | NewAccount] = {}
        emails = []
        for email, (fields, row) in first.items():
            if email in created:
                accounts[email] = account = NewAccount(
                    created[email], email, row["first_name"], row["password"], row["date_joined"]
                )
                emails.append(confirmation(account, sites[int(fields["site"])], fields))
            else:
                repeats.append(fields)
        missing = {fields["email"] for fields in repeats} - accounts.keys()
        accounts.update(User.objects.in_bulk(missing, field_name="email"))
        for fields in repeats:
            account, site = accounts.get(fields["email"]), sites[int(fields["site"])]
            if account is None:  # deleted between the INSERT and now: nothing to tell
                continue
            if account.date_joined == signup_stream.accepted_at(fields):
                # This very entry made the account (a batch replayed after a crash): its
                # confirmation is already queued, the key makes sure of it.
                emails.append(confirmation(account, site, fields))
            else:
                emails.append(already_registered(account, site, fields))
                done.existing += 1
        done.created = len(created)
        done.emails = queue_emails(emails)
        for fields in signins:
            sent = services.send_signin_link(
                email=fields["email"],
                site=sites[int(fields["site"])],
                language=fields["language"],
                next_url=fields.get("next", ""),
            )
            done.signin_links += sent
            if not sent and fields["email"] in waiting:
                if signup_stream.accepted_at(fields) > timezone.now() - SIGNIN_WAIT:
                    done.requeue.append(fields)
                else:
                    logger.warning("A sign-in link waited too long for its signup: dropped")
    return done


def decode(entries) -> list[tuple[str, dict]]:
    field = signup_stream.FIELD.encode()
    return [
        (
            entry_id.decode(),
            json.loads(fields[field])
            if field in fields
            # An entry spread over the stream's fields, as web processes older than the
            # one-field entry appended it (still in the stream during a deploy).
            else {k.decode(): v.decode() for k, v in fields.items()},
        )
        for entry_id, fields in entries
        if fields  # an id whose entry was deleted comes back empty
    ]


class Consumer:
    """One member of the stream's consumer group; several may run (each its own name)."""

    def __init__(self, name: str = "", *, batch=None, wait_ms=None, claim_idle_ms=None):
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.batch = batch or settings.SIGNUP_STREAM_BATCH
        self.wait_ms = wait_ms or settings.SIGNUP_STREAM_BATCH_WAIT_MS
        self.claim_idle_ms = claim_idle_ms or settings.SIGNUP_STREAM_CLAIM_IDLE_MS
        self.key = signup_stream.stream_key()
        self.redis = signup_stream.client()
        # Our own unacknowledged entries first: after a failed batch, or a restart under
        # the same name.
        self.mine_first = True

    def ensure_group(self) -> None:
        """From the stream's beginning: entries accepted before any consumer existed count."""
        try:
            self.redis.xgroup_create(self.key, signup_stream.GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def read_group(self, last_id: str, count: int, block: int | None = None) -> list:
        answer = self.redis.xreadgroup(
            signup_stream.GROUP, self.name, {self.key: last_id}, count=count, block=block
        )
        return answer[0][1] if answer else []

    def read(self, block_ms: int = 1000) -> list:
        """Up to `batch` entries: ours left pending, else a dead consumer's, else new ones,
        waiting `block_ms` for the first, then `wait_ms` at most for more."""
        if self.mine_first:
            entries = self.read_group("0", self.batch)
            if entries:
                return entries
            self.mine_first = False
        claimed = self.redis.xautoclaim(
            self.key,
            signup_stream.GROUP,
            self.name,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch,
        )[1]
        if claimed:
            logger.warning("Took over %d signups left pending by another consumer", len(claimed))
            return claimed
        entries = self.read_group(">", self.batch, block=block_ms)
        deadline = time.monotonic() + self.wait_ms / 1000
        # Then poll, not block: a blocking read returns as soon as one entry arrives, so at a
        # few hundred signups a second a batch took a round trip (and a decode) per entry or
        # two; every POLL_SECONDS it is at most wait_ms / POLL_SECONDS reads.
        while entries and len(entries) < self.batch:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(POLL_SECONDS, left))
            entries += self.read_group(">", self.batch - len(entries))
        return entries

    def run_once(self, block_ms: int = 1000) -> int:
        """Read, write and acknowledge one batch; how many entries it held."""
        raw = self.read(block_ms)
        if not raw:
            return 0
        entries = decode(raw)
        if not connection.in_atomic_block:  # (a test's transaction is not ours to close)
            close_old_connections()  # CONN_MAX_AGE and health checks, as between requests
        try:
            written = write(entries) if entries else Written()
        except Exception:
            self.mine_first = True  # they stay pending with us: retried next time
            if not connection.in_atomic_block:
                connection.close()  # one broken by a PostgreSQL restart is not reused
            raise
        ids = [entry_id for entry_id, _ in raw]
        markers = [
            signup_stream.marker_key(fields["email"])
            for _, fields in entries
            if fields["kind"] == "signup"
        ]
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.key, signup_stream.GROUP, *ids)
        pipe.xdel(self.key, *ids)
        if markers:
            pipe.delete(*markers)
        for fields in written.requeue:
            pipe.xadd(self.key, signup_stream.packed(fields))
        pipe.execute()
        if written.requeue and len(written.requeue) == len(entries):
            time.sleep(self.wait_ms / 1000)  # only sign-ins waiting: do not spin on them
        logger.info(
            "Signup batch: %d entries, %d accounts created, %d already registered, %d emails",
            len(ids),
            written.created,
            written.existing,
            written.emails,
        )
        return len(ids)

    def run(self, should_stop=lambda: False) -> None:
        """Until `should_stop()`; a failure (PostgreSQL or Redis away) is retried with a
        growing pause, never lost: the entries stay pending."""
        pause = 0.0
        while not should_stop():
            try:
                if pause:
                    time.sleep(pause)
                if self.mine_first:
                    self.ensure_group()
                self.run_once()
                pause = 0.0
            except (DatabaseError, redis.RedisError) as error:
                self.mine_first = True
                pause = min(max(pause * 2, 0.1), 2.0)
                logger.warning("Signup batch failed (%s); retrying in %.1f s", error, pause)

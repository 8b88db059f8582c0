"""`manage.py consume_signups`: the signup stream's writer (accounts.signup_writer.Consumer).

A process of its own (Procfile `signups`, compose service `signups`) rather than a Celery task:
it blocks on the stream and times its batches itself (up to 500 entries or 50 ms), keeps one
database connection, and does not wait behind emails and reminders in the Celery queue.
"""

import signal

from django.core.management.base import BaseCommand

from accounts.signup_writer import Consumer


class Command(BaseCommand):
    help = "Write the signups accepted into the Redis stream to the database, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="", help="consumer name (default: host-pid)")
        parser.add_argument("--batch", type=int, default=None)
        parser.add_argument("--wait-ms", type=int, default=None)
        parser.add_argument("--claim-idle-ms", type=int, default=None)

    def handle(self, *args, name="", batch=None, wait_ms=None, claim_idle_ms=None, **options):
        consumer = Consumer(name, batch=batch, wait_ms=wait_ms, claim_idle_ms=claim_idle_ms)
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)  # the batch in hand is written and acknowledged first

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"consume_signups: {consumer.name} reading {consumer.key}", ending="\n")
        self.stdout.flush()
        consumer.run(should_stop=lambda: bool(stopping))

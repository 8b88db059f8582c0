"""One timed drain for `python -m bench.run email` (run under the bench env, next to a worker):

    python -m bench.drain COUNT

Replaces the outbox with COUNT due records (demo sites, French and English), asks the worker
to sweep, waits until none is pending or sending, and prints one JSON line:
{"count": COUNT, "sent": ..., "seconds": ...}.
"""

import argparse
import json
import time

import django
from django.utils import timezone


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    count = parser.parse_args(argv).count

    django.setup()
    from wagtail.models import Site  # noqa: PLC0415 - needs django.setup() first

    from emails.models import OutboundEmail  # noqa: PLC0415 - needs django.setup() first
    from emails.tasks import sweep_outbox  # noqa: PLC0415 - needs django.setup() first

    OutboundEmail.objects.all().delete()
    sites = list(Site.objects.all())
    now = timezone.now()
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                to_email=f"volunteer{i}@example.com",
                template="account_confirmation",
                idempotency_key=f"bench:{i}",
                site=sites[i % len(sites)],
                language="fr" if i % 3 else "en",
                next_attempt_at=now,
                context={"first_name": f"Camille{i}", "action_path": f"/fr/confirmer/{i}/"},
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    start = time.monotonic()
    sweep_outbox.delay()
    while OutboundEmail.objects.filter(status__in=["pending", "sending"]).exists():
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    sent = OutboundEmail.objects.filter(status="sent").count()
    print(json.dumps({"count": count, "sent": sent, "seconds": elapsed}))


if __name__ == "__main__":
    main()

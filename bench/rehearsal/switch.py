"""`manage.py portal_switch`, kept warm: `python -m bench.rehearsal.switch` sets Django up once,
then runs `portal_switch` (through call_command, the command's own code path) for each line of
arguments it reads, and answers `done <seconds>` or `error <message>`.

A cold `manage.py portal_switch` spends its time importing Django and Wagtail and running the
system checks: 60 to 130 s on the rehearsal's loaded two cores, which would move the switch
far from its second in the timeline.
"""

import shlex
import sys
import time

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415 - after setup

    print("ready", flush=True)
    for line in sys.stdin:
        started = time.monotonic()
        try:
            call_command("portal_switch", *shlex.split(line))
        except Exception as error:  # noqa: BLE001 - reported to the caller
            print(f"error {error!r}", flush=True)
            continue
        print(f"done {time.monotonic() - started:.3f}", flush=True)


if __name__ == "__main__":
    main()

"""Signed-in volunteers for the rehearsal's applications: `python -m bench.rehearsal.sessions N`
(under the run's production environment) prints the session keys of N confirmed volunteers of
the generated data set, as Django's login() would have stored them in the sessions Redis.

Signing in through the site would cost a password hash or an emailed link per volunteer, and
the rehearsal measures applying, not signing in.
"""

import json
import sys

import django


def main(count: int) -> list[str]:
    django.setup()
    from django.conf import settings  # noqa: PLC0415
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: PLC0415 - after setup
    from django.utils.module_loading import import_string  # noqa: PLC0415

    from accounts.models import User  # noqa: PLC0415

    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    volunteers = User.objects.filter(
        email__startswith="gen-", email_confirmed_at__isnull=False, is_active=True
    ).order_by("-pk")[:count]
    keys = []
    for user in volunteers:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))

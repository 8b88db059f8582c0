"""Where a portal may move: only to operators' domains, and only by a superuser or an operator."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from wagtail.models import Site

from tenants.models import PortalSettings, SwitchChange
from tenants.switches import apply
from tenants.validators import domain_allowed
from tests import factories as make
from tests.test_settings import PRODUCTION_ENV, run
from tests.test_switches import form_data, settings_url
from tests.workers import worker_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def editor(demo):
    return make.editor(demo["localhost"])


@pytest.fixture
def superuser(db):
    return make.superuser()


def hostname(site):
    return Site.objects.get(pk=site.pk).hostname


def save_settings(client, site, **changes):
    """The portal's settings form in the admin, posted with `changes`."""
    return client.post(settings_url(site), form_data(site, **changes))


@pytest.mark.parametrize(
    "host, allowed, expected",
    [
        ("jeveuxaider.gouv.fr", [".gouv.fr"], True),
        ("a.b.gouv.fr", [".gouv.fr"], True),
        ("gouv.fr", [".gouv.fr"], True),  # as Django's ALLOWED_HOSTS
        ("JeVeuxAider.Gouv.Fr.", [".gouv.fr"], True),
        ("evilgouv.fr", [".gouv.fr"], False),
        ("gouv.fr.evil.com", [".gouv.fr"], False),
        ("jeveuxaider.gouv.fr", ["jeveuxaider.gouv.fr"], True),
        ("x.jeveuxaider.gouv.fr", ["jeveuxaider.gouv.fr"], False),
        ("jeveuxaider.gouv.fr.evil.com", ["jeveuxaider.gouv.fr"], False),
        ("reserve-civique.fr", ["jeveuxaider.gouv.fr", ".reserve-civique.fr"], True),
        ("anything.fr", [], False),
        ("anything.fr", ["", "."], False),
    ],
)
def test_allow_list_subdomain_and_exact_entries(host, allowed, expected):
    assert domain_allowed(host, allowed) is expected


@pytest.mark.django_db
def test_editor_cannot_ask_for_a_domain_off_the_allow_list(client, demo, editor, settings):
    settings.PORTAL_DOMAINS = [".localhost"]
    client.force_login(editor)
    response = save_settings(
        client, demo["localhost"], public_domain="attacker.example.com", banner_message="x"
    )
    assert response.status_code == 200 and "PORTAL_DOMAINS" in response.text
    assert hostname(demo["localhost"]) == "localhost"
    portal = PortalSettings.for_site(demo["localhost"])
    assert (portal.public_domain, portal.requested_domain, portal.banner_message) == (
        "localhost",
        "",
        "",
    )
    assert not SwitchChange.objects.filter(site=demo["localhost"]).exists()


@pytest.mark.django_db
def test_superuser_cannot_move_off_the_allow_list_either(client, demo, superuser, settings):
    settings.PORTAL_DOMAINS = [".gouv.fr"]
    client.force_login(superuser)
    response = save_settings(client, demo["localhost"], public_domain="jeveuxaider.localhost")
    assert response.status_code == 200
    assert hostname(demo["localhost"]) == "localhost"


@pytest.mark.django_db
def test_editors_allowed_move_is_a_request_until_a_superuser_applies_it(
    client, demo, editor, superuser, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_DOMAINS = [".localhost"]
    site = demo["localhost"]
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(
            client, site, public_domain="jeveuxaider.localhost", banner_message="Bienvenue"
        )
    assert response.status_code == 302
    # Nothing moved: the real host still serves the portal, no alias, the domain unchanged.
    assert hostname(site) == "localhost"
    assert not site.aliases.exists()
    assert type(client)().get("/fr/", HTTP_HOST="localhost").status_code == 200
    assert type(client)().get("/fr/", HTTP_HOST="jeveuxaider.localhost").status_code == 400
    portal = PortalSettings.for_site(site)
    assert portal.public_domain == "localhost"
    assert portal.requested_domain == "jeveuxaider.localhost"
    assert portal.banner_message == "Bienvenue"  # the rest of the form is saved as usual
    request = SwitchChange.objects.get(site=site, field="requested_domain")
    assert (request.old_value, request.new_value, request.user) == (
        "",
        "jeveuxaider.localhost",
        editor,
    )
    assert not SwitchChange.objects.filter(field="public_domain").exists()
    # Saving the form again (the domain shown is the current one) keeps the request pending.
    save_settings(client, site, banner_message="Encore")
    assert PortalSettings.for_site(site).requested_domain == "jeveuxaider.localhost"
    assert hostname(site) == "localhost"

    client.force_login(superuser)
    page = client.get(settings_url(site))
    assert "jeveuxaider.localhost" in page.text  # the pending request is shown
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(client, site, public_domain="jeveuxaider.localhost")
    assert response.status_code == 302
    assert hostname(site) == "jeveuxaider.localhost"
    assert PortalSettings.for_site(site).requested_domain == ""
    applied = SwitchChange.objects.get(site=site, field="public_domain")
    assert (applied.old_value, applied.new_value, applied.user, applied.source) == (
        "localhost",
        "jeveuxaider.localhost",
        superuser,
        "admin",
    )
    settled = SwitchChange.objects.filter(site=site, field="requested_domain").first()
    assert (settled.new_value, settled.user) == ("", superuser)
    assert type(client)().get("/fr/", HTTP_HOST="localhost").status_code == 301


@pytest.mark.django_db
def test_command_refuses_a_domain_off_the_allow_list_and_changes_nothing(demo, settings):
    settings.PORTAL_DOMAINS = [".gouv.fr", "jeveuxaider.fr"]
    site = demo["covid19.localhost"]
    with pytest.raises(CommandError, match="PORTAL_DOMAINS") as refused:
        call_command(
            "portal_switch", "covid19.localhost", "--domain", "x.jeveuxaider.fr", "--degraded", "on"
        )
    assert refused.value.returncode != 0
    assert hostname(site) == "covid19.localhost"
    assert not PortalSettings.for_site(site).degraded_mode
    assert not SwitchChange.objects.filter(site=site).exists()


@pytest.mark.django_db(transaction=True)
def test_command_line_exits_non_zero_with_the_reason(demo):
    """The real command line, as an operator runs it: exit status and message."""
    switch = ["portal_switch", "covid19.localhost", "--domain", "attacker.example.com"]
    result = subprocess.run(
        [sys.executable, "manage.py", *switch],
        cwd=ROOT,
        env=worker_env(PORTAL_DOMAINS=".gouv.fr"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "attacker.example.com" in result.stderr and "PORTAL_DOMAINS" in result.stderr
    assert hostname(demo["covid19.localhost"]) == "covid19.localhost"


@pytest.mark.django_db
def test_no_allow_list_means_no_move_at_all(client, demo, superuser, settings):
    settings.PORTAL_DOMAINS = []
    site = demo["localhost"]
    with pytest.raises(ValidationError):
        apply(site, public_domain="jeveuxaider.localhost")
    with pytest.raises(CommandError, match="PORTAL_DOMAINS is not set"):
        call_command("portal_switch", "localhost", "--domain", "jeveuxaider.localhost")
    client.force_login(superuser)
    response = save_settings(client, site, public_domain="jeveuxaider.localhost")
    assert response.status_code == 200
    # Other switches still work: staying on the current hostname needs no allow-list.
    apply(site, degraded_mode=True)
    assert PortalSettings.for_site(site).degraded_mode
    assert hostname(site) == "localhost"
    assert not SwitchChange.objects.filter(field="public_domain").exists()


def test_production_reads_the_allow_list_and_unset_means_empty():
    code = "import json; from django.conf import settings as s; print(json.dumps(s.PORTAL_DOMAINS))"
    unset = run(code, **PRODUCTION_ENV)
    assert unset.returncode == 0, unset.stderr
    assert json.loads(unset.stdout.strip().splitlines()[-1]) == []
    listed = run(code, **PRODUCTION_ENV, PORTAL_DOMAINS=".gouv.fr,jeveuxaider.fr")
    assert json.loads(listed.stdout.strip().splitlines()[-1]) == [".gouv.fr", "jeveuxaider.fr"]

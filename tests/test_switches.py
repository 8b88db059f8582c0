"""Editors' switches: domain move, degraded mode, signups, banner; their log and their purge."""

import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command
from wagtail.models import Site

from emails.outbox import queue_email
from emails.sending import render
from home.models import HomePage
from tenants.models import PortalSettings, SiteAlias, SwitchChange
from tenants.switches import apply
from tests import factories as make
from tests.workers import WebServer

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def settings_url(site):
    return f"/admin/settings/tenants/portalsettings/{site.pk}/"


def form_data(site, **changes):
    portal = PortalSettings.for_site(site)
    data = {
        "public_domain": portal.public_domain,
        "banner_message": portal.banner_message,
        "banner_level": portal.banner_level,
        "sender_name": portal.sender_name,
        "reply_to": portal.reply_to,
    }
    if portal.signups_open:
        data["signups_open"] = "on"
    if portal.degraded_mode:
        data["degraded_mode"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def editor(demo):
    return make.editor(demo["localhost"])


def test_editor_edits_only_their_portals_settings(client, demo, editor):
    client.force_login(editor)
    own = client.get(settings_url(demo["localhost"]), HTTP_HOST="localhost", follow=True)
    assert own.status_code == 200 and "banner_message" in own.text
    other = client.get(
        settings_url(demo["covid19.localhost"]),
        HTTP_HOST="localhost",
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        follow=True,
    )
    assert other.status_code == 403 or "banner_message" not in other.text
    client.post(
        settings_url(demo["covid19.localhost"]),
        form_data(demo["covid19.localhost"], banner_message="piraté"),
        HTTP_HOST="localhost",
    )
    assert PortalSettings.for_site(demo["covid19.localhost"]).banner_message != "piraté"


def test_admin_change_is_logged_with_who_and_what(client, demo, editor):
    client.force_login(editor)
    response = client.post(
        settings_url(demo["localhost"]),
        form_data(demo["localhost"], banner_message="Forte affluence", signups_open=None),
        HTTP_HOST="localhost",
    )
    assert response.status_code == 302, response.content[:500]
    changes = {c.field: c for c in SwitchChange.objects.filter(site=demo["localhost"])}
    assert changes["banner_message"].new_value == "Forte affluence"
    assert (
        changes["signups_open"].old_value == "True" and changes["signups_open"].new_value == "False"
    )
    assert changes["banner_message"].user == editor and changes["banner_message"].source == "admin"
    client.force_login(make.superuser())
    log = client.get("/admin/switch-log/", HTTP_HOST="localhost", follow=True)
    assert "Forte affluence" in log.text


def test_domain_switch_from_the_admin_redirects_the_old_host(
    client, demo, django_capture_on_commit_callbacks
):
    client.force_login(make.superuser())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            settings_url(demo["localhost"]),
            form_data(demo["localhost"], public_domain="JeVeuxAider.localhost"),
            HTTP_HOST="localhost",
        )
    assert response.status_code == 302
    site = Site.objects.get(pk=demo["localhost"].pk)
    assert site.hostname == "jeveuxaider.localhost"
    assert SiteAlias.objects.filter(site=site, hostname="localhost").exists()
    anonymous = type(client)()
    get = anonymous.get("/fr/comment-ca-marche/?x=1", HTTP_HOST="localhost")
    assert get.status_code == 301
    assert get["Location"] == "http://jeveuxaider.localhost/fr/comment-ca-marche/?x=1"
    assert anonymous.head("/fr/", HTTP_HOST="localhost").status_code == 301
    for method in ("post", "put", "delete", "patch"):
        assert (
            getattr(anonymous, method)("/api/v1/signup", HTTP_HOST="localhost").status_code == 308
        )
    assert anonymous.get("/fr/", HTTP_HOST="jeveuxaider.localhost").status_code == 200
    # The other portal is untouched, and its host never redirects to this one.
    assert anonymous.get("/fr/", HTTP_HOST="covid19.localhost").status_code == 200
    # Canonical URLs, sitemaps and email links follow the new domain.
    page = anonymous.get("/fr/comment-ca-marche/", HTTP_HOST="jeveuxaider.localhost").text
    assert 'rel="canonical" href="http://jeveuxaider.localhost/fr/comment-ca-marche/"' in page
    sitemap = anonymous.get("/sitemap.xml", HTTP_HOST="jeveuxaider.localhost").text
    assert "http://jeveuxaider.localhost/fr/" in sitemap and "http://localhost/" not in sitemap
    email = queue_email(
        to="a@example.com",
        template="account_confirmation",
        idempotency_key="k",
        site=site,
        context={"first_name": "A", "action_path": "/fr/x/"},
    )
    assert "http://jeveuxaider.localhost/fr/x/" in render(email).html
    assert SwitchChange.objects.filter(field="public_domain", new_value="jeveuxaider.localhost")


def test_switching_back_reuses_the_old_name(demo, django_capture_on_commit_callbacks):
    site = demo["covid19.localhost"]
    with django_capture_on_commit_callbacks(execute=True):
        apply(site, public_domain="new-covid.localhost")
        apply(Site.objects.get(pk=site.pk), public_domain="covid19.localhost")
    site.refresh_from_db()
    assert site.hostname == "covid19.localhost"
    assert list(site.aliases.values_list("hostname", flat=True)) == ["new-covid.localhost"]


@pytest.mark.parametrize("bad", ["covid19.localhost", "not a host", "a..b", "x" * 300])
def test_invalid_or_taken_domain_is_a_form_error_and_nothing_moves(client, demo, editor, bad):
    client.force_login(editor)
    response = client.post(
        settings_url(demo["localhost"]),
        form_data(demo["localhost"], public_domain=bad, banner_message="garde"),
        HTTP_HOST="localhost",
    )
    assert response.status_code == 200  # the form again, with the error
    assert Site.objects.get(pk=demo["localhost"].pk).hostname == "localhost"
    assert PortalSettings.for_site(demo["localhost"]).banner_message == ""


def test_portal_switch_command_uses_the_same_path(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "portal_switch", "covid19.localhost", "--degraded", "on", "--signups", "closed"
        )
    portal = PortalSettings.for_site(demo["covid19.localhost"])
    assert portal.degraded_mode and not portal.signups_open
    assert set(SwitchChange.objects.filter(source="command").values_list("field", flat=True)) == {
        "degraded_mode",
        "signups_open",
    }
    with django_capture_on_commit_callbacks(execute=True):
        call_command("portal_switch", "covid19.localhost", "--domain", "covid.localhost")
    assert Site.objects.get(pk=demo["covid19.localhost"].pk).hostname == "covid.localhost"
    with pytest.raises(CommandError):
        call_command("portal_switch", "nowhere.localhost", "--degraded", "on")
    with pytest.raises(CommandError):
        call_command("portal_switch", "covid.localhost", "--domain", "localhost")


def test_degraded_mode_turns_off_live_parts_and_keeps_the_essentials(client, demo):
    apply(demo["localhost"], degraded_mode=True)
    home = client.get("/fr/", HTTP_HOST="localhost")
    assert home.status_code == 200
    assert "Trier les denrées collectées" not in home.text  # live missions off (nothing cached)
    assert "fr-notice--warning" in home.text  # the banner says so
    search = client.get("/fr/search/?query=association", HTTP_HOST="localhost")
    assert search.status_code == 200 and "fr-alert--info" in search.text
    for url in ["/fr/inscription/", "/fr/compte/connexion/", "/fr/gestes-barrieres/"]:
        host = "covid19.localhost" if "gestes" in url else "localhost"
        assert client.get(url, HTTP_HOST=host).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_degraded_search_serves_cached_results(client, demo):
    client.get("/fr/search/?query=association", HTTP_HOST="localhost")  # warm
    apply(demo["localhost"], degraded_mode=True)
    response = client.get("/fr/search/?query=association", HTTP_HOST="localhost")
    assert "Vous êtes une association ?" in response.text


def test_cdn_purge_happens_after_commit_with_the_pages_urls(
    demo, cloudflare, django_capture_on_commit_callbacks
):
    home = HomePage.objects.get(pk=demo["localhost"].root_page_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        home.save_revision().publish()
        assert cloudflare.calls == []  # nothing purged inside the transaction
    for callback in callbacks:
        callback()
    assert cloudflare.calls and cloudflare.calls[0]["path"] == "/client/v4/zones/zone42/purge_cache"
    assert cloudflare.calls[0]["auth"] == "Bearer secret-token"
    assert "http://localhost/fr/" in cloudflare.purged
    assert "http://localhost/en/comment-ca-marche/" in cloudflare.purged
    assert all(len(call["body"]["files"]) <= 30 for call in cloudflare.calls)
    cloudflare.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        apply(demo["localhost"], banner_message="Nouveau bandeau")
    assert "http://localhost/fr/inscription/" in cloudflare.purged


@pytest.mark.django_db(transaction=True)
def test_domain_switch_reaches_every_web_process_within_five_seconds(demo):
    """Two real server processes, each with its own memory tiers; the switch commits in a third."""
    processes = []
    try:
        for _ in range(2):
            processes.append(WebServer(workers=1).start())
        urls = [server.url for server in processes]
        for url in urls:
            response = requests.get(f"{url}/fr/", headers={"Host": "localhost"}, timeout=5)
            assert response.status_code == 200  # warm: host map and page cache filled
            requests.get(f"{url}/fr/", headers={"Host": "localhost"}, timeout=5)
        started = time.monotonic()
        apply(Site.objects.get(hostname="localhost"), public_domain="moved.localhost")
        pending = set(urls)
        statuses = []
        while pending and time.monotonic() - started < 8:
            for url in list(pending):
                response = requests.get(
                    f"{url}/fr/", headers={"Host": "localhost"}, allow_redirects=False, timeout=5
                )
                statuses.append((url[-5:], response.status_code, response.headers.get("X-Cache")))
                if response.status_code == 301:
                    assert response.headers["Location"].startswith("http://moved.localhost")
                    pending.discard(url)
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert not pending, f"a process still serves the old domain: {statuses[-4:]}"
        assert elapsed <= 5.0, elapsed
        for url in urls:
            assert requests.get(f"{url}/fr/", headers={"Host": "moved.localhost"}, timeout=5).ok
    finally:
        for server in processes:
            server.stop()

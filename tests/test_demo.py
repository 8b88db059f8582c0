import pytest
from django.contrib.auth.models import Group
from wagtail.models import Page, Site

from home.models import HomePage
from missions.models import Mission
from organisations.models import Organisation
from portal.demo import load_demo

pytestmark = pytest.mark.django_db


def counts():
    return (
        Site.objects.count(),
        Page.objects.count(),
        Organisation.objects.count(),
        Mission.objects.count(),
        Group.objects.count(),
    )


def test_load_demo_is_idempotent(demo):
    before = counts()
    load_demo()
    assert counts() == before


def test_demo_has_two_portals_in_french_and_english(demo):
    assert set(demo) == {"localhost", "covid19.localhost"}
    assert Site.objects.get(is_default_site=True).hostname == "localhost"
    for site in demo.values():
        home = site.root_page.specific
        assert home.locale.language_code == "fr"
        english = HomePage.objects.get(
            translation_key=home.translation_key, locale__language_code="en"
        )
        assert english.live and english.title != home.title
        assert Mission.objects.filter(sites=site, status="validated").exists()

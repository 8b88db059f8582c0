"""An editor does the whole job from the admin: images and documents in their portal's own
collection (never another portal's), the shared taxonomy's names and their translation."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image as PILImage
from wagtail.images.models import Image
from wagtail.models import Locale

from missions.models import Domain, Mission
from organisations.forms import MissionForm
from search import taxonomy
from tenants.models import PortalSettings
from tests import factories as make

pytestmark = pytest.mark.django_db


def png(name="affiche.png"):
    data = io.BytesIO()
    PILImage.new("RGB", (4, 3), "blue").save(data, "PNG")
    return SimpleUploadedFile(name, data.getvalue(), content_type="image/png")


def collection(site):
    return PortalSettings.objects.get(site=site).collection


@pytest.fixture
def editor_client(demo):
    client = make.client_for()
    client.force_login(make.editor(demo["localhost"]))
    return client


def test_an_editor_uploads_into_their_portals_collection_only(editor_client, demo):
    own, other = collection(demo["localhost"]), collection(demo["covid19.localhost"])
    assert own != other

    response = editor_client.post(
        "/admin/images/add/", {"title": "Affiche", "file": png(), "collection": own.pk}
    )
    assert response.status_code == 302
    assert Image.objects.get(title="Affiche").collection == own

    response = editor_client.post(
        "/admin/images/add/", {"title": "Intrusion", "file": png(), "collection": other.pk}
    )
    assert not Image.objects.filter(title="Intrusion", collection=other).exists()


def test_an_editor_never_sees_another_portals_collection(editor_client, demo):
    other = collection(demo["covid19.localhost"])
    theirs = Image.objects.create(title="Logo partenaire covid", file=png(), collection=other)
    mine = Image.objects.create(
        title="Logo partenaire national", file=png(), collection=collection(demo["localhost"])
    )

    listing = editor_client.get("/admin/images/")
    assert listing.status_code == 200
    assert mine.title in listing.text
    assert theirs.title not in listing.text
    assert other.name not in listing.text  # not even offered as a filter

    chooser = editor_client.get("/admin/images/chooser/")
    assert mine.title in chooser.json()["html"]
    assert theirs.title not in chooser.json()["html"]

    edit = editor_client.get(f"/admin/images/{theirs.pk}/")
    assert edit.status_code in (302, 403)
    assert editor_client.post(f"/admin/images/{theirs.pk}/delete/").status_code in (302, 403)
    assert Image.objects.filter(pk=theirs.pk).exists()


def test_an_editor_renames_a_domain_but_not_its_slug_and_submits_it_for_translation(
    editor_client, demo
):
    domain = Domain.objects.get(slug="aide-alimentaire")
    missions = Mission.objects.filter(domain=domain).count()
    assert missions

    url = f"/admin/snippets/missions/domain/edit/{domain.pk}/"
    assert editor_client.get(url).status_code == 200
    response = editor_client.post(url, {"name": "Aide alimentaire d'urgence", "slug": "pirate"})
    assert response.status_code == 302
    domain.refresh_from_db()
    assert (domain.name, domain.slug) == ("Aide alimentaire d'urgence", "aide-alimentaire")
    # Adding or deleting one is the operators' call.
    assert editor_client.get("/admin/snippets/missions/domain/add/").status_code in (302, 403)

    english = Locale.objects.get(language_code="en")
    response = editor_client.post(
        f"/admin/localize/submit/snippet/missions/domain/{domain.pk}/", {"locales": [english.pk]}
    )
    assert response.status_code == 302
    translated = Domain.objects.get(translation_key=domain.translation_key, locale=english)
    assert translated.slug == domain.slug
    assert Mission.objects.filter(domain=domain).count() == missions

    # Once named in English, the facet keeps its one slug and is named per language.
    translated.name = "Emergency food aid"
    translated.save()
    with translation.override("en"):
        facets = dict(taxonomy.taxonomy()["domain"])
    assert facets["aide-alimentaire"] == "Emergency food aid"
    assert list(facets).count("aide-alimentaire") == 1
    with translation.override("fr"):
        assert dict(taxonomy.taxonomy()["domain"])["aide-alimentaire"] == domain.name
    assert taxonomy.slugs("domain") == set(
        Domain.objects.filter(locale=Locale.get_default()).values_list("slug", flat=True)
    )
    # A mission of that domain names it in the visitor's language.
    mission = Mission.objects.filter(domain=domain, status=Mission.Status.VALIDATED).first()
    with translation.override("en"):
        page = editor_client.get(mission.get_absolute_url(), HTTP_HOST="localhost")
    assert page.status_code == 200
    assert "Emergency food aid" in page.text
    with translation.override("fr"):
        page = editor_client.get(mission.get_absolute_url(), HTTP_HOST="localhost")
    assert "Aide alimentaire d&#x27;urgence" in page.text or domain.name in page.text


def test_a_missions_domain_is_chosen_among_the_default_languages_rows(demo):
    domain = Domain.objects.get(slug="sante")
    english = domain.copy_for_translation(Locale.objects.get(language_code="en"))
    english.save()
    choices = MissionForm().fields["domain"].queryset  # the associations' mission form
    assert domain in choices
    assert english not in choices

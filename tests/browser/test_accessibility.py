"""axe-core on the pages people use most: 0 serious or critical WCAG 2.1 A/AA violations."""

from wagtail.models import Site


def test_the_demo_portals_are_there(db):
    """What the journeys start from (and, run alone, what makes pytest-django set the test
    database up: the journeys use a copy of it)."""
    assert set(Site.objects.values_list("hostname", flat=True)) >= {
        "localhost",
        "covid19.localhost",
    }

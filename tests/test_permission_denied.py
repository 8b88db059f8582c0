"""A refusal is a 403 in the look of where it happened (portal.errors.permission_denied):
Django's bare "403 Forbidden" was what an editor saw on another portal's page."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from portal.errors import permission_denied
from tests import factories as make

pytestmark = pytest.mark.django_db


def refused(path: str, demo):
    request = RequestFactory().get(path, HTTP_HOST="localhost")
    request._wagtail_site = request.site = demo["localhost"]
    request.user = make.editor(demo["localhost"])  # as the middleware left it
    return permission_denied(request, PermissionDenied())


def test_the_admin_refuses_in_the_admins_look(demo):
    response = refused("/admin/pages/1/edit/", demo)
    assert response.status_code == 403
    text = response.content.decode()
    assert "wagtailadmin/css/core" in text and "Accès refusé" in text
    assert 'href="/admin/"' in text  # the way back


def test_the_site_refuses_in_the_portals_look(demo):
    response = refused("/fr/espace/", demo)
    assert response.status_code == 403
    text = response.content.decode()
    assert "Accès refusé" in text and "dsfr" in text and 'class="fr-header"' in text


def test_the_api_refuses_in_json(demo):
    response = refused("/api/v1/me", demo)
    assert response.status_code == 403
    assert json.loads(response.content)["error"] == "forbidden"

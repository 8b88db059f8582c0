"""Links written for someone else's language: an email's reader, a purge's every language."""

from django.utils import translation

from portal import languages


def test_a_link_is_reversed_in_its_readers_language_whatever_the_request_speaks():
    with translation.override("fr"):
        assert languages.reverse_in("en", "accounts:attendance", [7]) == (
            "/en/espace/candidatures/7/bilan/"
        )
        assert translation.get_language() == "fr"  # the request's language is left as it was


def test_a_language_the_portal_does_not_speak_gets_its_first_one():
    with translation.override("en"):
        for claimed in ("de", "", None):
            assert languages.reverse_in(claimed, "accounts:attendance", [7]).startswith("/fr/")

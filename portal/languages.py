"""The portal's languages: French first, English second (settings.LANGUAGES)."""

from django.conf import settings
from django.utils.translation import get_language


def supported(language) -> str:
    """`language` when the portal speaks it, else its first language: for what a visitor,
    a JSON body or a stored row claims."""
    known = isinstance(language, str) and language in dict(settings.LANGUAGES)
    return language if known else settings.LANGUAGE_CODE


def current() -> str:
    """The language of the page being answered."""
    return supported(get_language())

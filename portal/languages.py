"""The portal's languages: French first, English second (settings.LANGUAGES)."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language, override


def supported(language) -> str:
    """`language` when the portal speaks it, else its first language: for what a visitor,
    a JSON body or a stored row claims."""
    known = isinstance(language, str) and language in dict(settings.LANGUAGES)
    return language if known else settings.LANGUAGE_CODE


def current() -> str:
    """The language of the page being answered."""
    return supported(get_language())


def reverse_in(language, name: str, args=()) -> str:
    """The path of view `name` in `language` (one the portal speaks): for a link written to
    someone who reads another language than the request's, an email or a purge."""
    with override(supported(language)):
        return reverse(name, args=args)

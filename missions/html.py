"""Rich text written by associations, reduced to what a mission page may show."""

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"}


def clean_description(html: str) -> str:
    """Basic formatting and links only: no script, style, image or event attribute."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes={"a": {"href"}})

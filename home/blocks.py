"""StreamField blocks, rendered with DSFR components (templates in home/templates/home/blocks/)."""

import html
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

LINK_SCHEMES = ("http", "https", "mailto", "tel")
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def link_scheme_allowed(url: str) -> bool:
    """http, https, mailto, tel or a relative path: never javascript:, data:, vbscript:...

    Browsers ignore control characters and whitespace inside a scheme (`java\tscript:`), and
    entities in attributes, so the check reads the URL the way a browser would.
    """
    normalised = html.unescape(url).lower()
    normalised = re.sub(r"[\x00-\x20\x7f-\xa0\s\ufffd]+", "", normalised)
    match = SCHEME.match(normalised)
    return match is None or match.group(1) in LINK_SCHEMES


def validate_link(url: str) -> None:
    if url and not link_scheme_allowed(url):
        raise ValidationError(
            _("Links may only start with http://, https://, mailto:, tel: or /."),
            code="link_scheme",
        )


class LinkBlock(blocks.CharBlock):
    """A URL an editor types: a web address, an email or phone link, or a path on the site."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 2000)
        super().__init__(*args, validators=[validate_link], **kwargs)


class SafeRichTextBlock(blocks.RichTextBlock):
    """Rich text whose links pass the same check (Draftail drops bad links; imports may not)."""

    def clean(self, value):
        value = super().clean(value)
        for match in HREF.finditer(value.source if value else ""):
            validate_link(next(group for group in match.groups() if group is not None))
        return value


class CalloutBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"))
    text = blocks.TextBlock(label=_("text"))
    link_text = blocks.CharBlock(label=_("link text"), required=False)
    link_url = LinkBlock(label=_("link URL"), required=False)

    class Meta:
        template = "home/blocks/callout.html"
        icon = "pick"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("quote"))
    author = blocks.CharBlock(label=_("author"), required=False)

    class Meta:
        template = "home/blocks/quote.html"
        icon = "openquote"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", template="home/blocks/heading.html")
    paragraph = SafeRichTextBlock(features=["bold", "italic", "link", "ol", "ul"])
    callout = CalloutBlock()
    quote = QuoteBlock()
    image = ImageChooserBlock(template="home/blocks/image.html")


class KeyFigureBlock(blocks.StructBlock):
    """A number on the home page: typed by an editor, or read live from the portal."""

    SOURCES = [
        ("", _("The value typed below")),
        ("volunteers", _("Live: volunteers signed up on this portal")),
        ("missions", _("Live: missions open on this portal")),
        ("organisations", _("Live: organisations on this portal")),
    ]
    label = blocks.CharBlock(label=_("label"))
    source = blocks.ChoiceBlock(choices=SOURCES, required=False, label=_("source"))
    value = blocks.CharBlock(label=_("value"), required=False)

    class Meta:
        icon = "order"


class PartnerBlock(blocks.StructBlock):
    name = blocks.CharBlock(label=_("name"))
    logo = ImageChooserBlock(required=False, label=_("logo"))
    url = LinkBlock(required=False, label=_("website"))

    class Meta:
        icon = "group"


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("question"))
    answer = SafeRichTextBlock(features=["bold", "italic", "link", "ol", "ul"], label=_("answer"))

    class Meta:
        icon = "help"

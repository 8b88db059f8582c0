"""StreamField blocks, rendered with DSFR components (templates in home/templates/home/blocks/)."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class CalloutBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"))
    text = blocks.TextBlock(label=_("text"))
    link_text = blocks.CharBlock(label=_("link text"), required=False)
    link_url = blocks.CharBlock(label=_("link URL"), required=False)

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
    paragraph = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])
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
    url = blocks.URLBlock(required=False, label=_("website"))

    class Meta:
        icon = "group"


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("question"))
    answer = blocks.RichTextBlock(
        features=["bold", "italic", "link", "ol", "ul"], label=_("answer")
    )

    class Meta:
        icon = "help"

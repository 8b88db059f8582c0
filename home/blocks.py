"""StreamField blocks, rendered with DSFR components."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks


class CalloutBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"))
    text = blocks.TextBlock(label=_("text"))
    link_text = blocks.CharBlock(label=_("link text"), required=False)
    link_url = blocks.CharBlock(label=_("link URL"), required=False)

    class Meta:
        template = "home/blocks/callout.html"
        icon = "pick"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", template="home/blocks/heading.html")
    paragraph = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])
    callout = CalloutBlock()

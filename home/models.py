"""Page types of a campaign portal. Each renders with DSFR components; see home/blocks.py."""

from django.db import models
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from portal.cache import public_page

from .blocks import BodyBlock, KeyFigureBlock, PartnerBlock, QuestionBlock
from .figures import key_figures, open_missions


class PortalPage(Page):
    """What every public page shares: SEO image, and the CDN cache headers on serve."""

    social_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sharing image"),
    )
    promote_panels = Page.promote_panels + [FieldPanel("social_image")]

    class Meta:
        abstract = True

    @public_page
    def serve(self, request, *args, **kwargs):
        return super().serve(request, *args, **kwargs)


class HomePage(PortalPage):
    """The root page of a campaign portal: one per Site and language."""

    hero_title = models.CharField(_("hero title"), max_length=200, blank=True)
    hero_text = models.TextField(_("hero text"), blank=True)
    call_to_action = models.CharField(_("call to action"), max_length=80, blank=True)
    key_figures = StreamField(
        [("figure", KeyFigureBlock())],
        blank=True,
        use_json_field=True,
        verbose_name=_("key figures"),
    )
    highlighted_missions = models.PositiveSmallIntegerField(
        _("highlighted missions"), default=3, help_text=_("How many open missions to show.")
    )
    body = StreamField(BodyBlock(), blank=True, use_json_field=True)
    partners = StreamField(
        [("partner", PartnerBlock())], blank=True, use_json_field=True, verbose_name=_("partners")
    )

    content_panels = Page.content_panels + [
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("call_to_action"),
        FieldPanel("key_figures"),
        FieldPanel("highlighted_missions"),
        FieldPanel("body"),
        FieldPanel("partners"),
    ]
    search_fields = Page.search_fields + [index.SearchField("hero_text")]
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        site = request._wagtail_site
        context["figures"] = key_figures(site, self.key_figures)
        context["missions"] = open_missions(site, self.highlighted_missions)
        return context


class CampaignPage(PortalPage):
    """A landing page for one campaign (a crisis, a season, a cause)."""

    hero_title = models.CharField(_("hero title"), max_length=200, blank=True)
    hero_text = models.TextField(_("hero text"), blank=True)
    call_to_action = models.CharField(_("call to action"), max_length=80, blank=True)
    body = StreamField(BodyBlock(), blank=True, use_json_field=True)

    content_panels = Page.content_panels + [
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("call_to_action"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("hero_text"), index.SearchField("body")]
    parent_page_types = ["home.HomePage"]

    class Meta:
        verbose_name = _("campaign page")


class StandardPage(PortalPage):
    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(BodyBlock(), blank=True, use_json_field=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["home.HomePage", "home.StandardPage", "home.CampaignPage"]

    class Meta:
        verbose_name = _("standard page")


class FaqPage(PortalPage):
    """Questions as blocks; the template adds schema.org FAQPage structured data."""

    intro = models.TextField(_("introduction"), blank=True)
    questions = StreamField([("question", QuestionBlock())], use_json_field=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("questions")]
    search_fields = Page.search_fields + [index.SearchField("questions")]
    parent_page_types = ["home.HomePage", "home.CampaignPage"]

    class Meta:
        verbose_name = _("FAQ")

    def structured_data(self) -> dict:
        return {
            "@context": "https://schema.org",
            "@type": "FAQPage",
            "mainEntity": [
                {
                    "@type": "Question",
                    "name": block.value["question"],
                    "acceptedAnswer": {
                        "@type": "Answer",
                        "text": strip_tags(str(block.value["answer"])),
                    },
                }
                for block in self.questions
            ],
        }


class NewsIndexPage(PortalPage):
    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.NewsPage"]

    class Meta:
        verbose_name = _("news index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["news"] = NewsPage.objects.child_of(self).live().public().order_by("-date")[:30]
        return context


class NewsPage(PortalPage):
    date = models.DateField(_("date"))
    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(BodyBlock(), blank=True, use_json_field=True)

    content_panels = Page.content_panels + [
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["home.NewsIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("news")

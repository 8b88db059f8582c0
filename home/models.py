"""Page types of a campaign portal. Each renders with DSFR components; see home/blocks.py."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from portal.cache import public_page

from .blocks import BodyBlock, KeyFigureBlock, PartnerBlock, QuestionBlock
from .figures import key_figures, open_missions
from .navigation import app_links, page_tree


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


class AccessibilityPage(PortalPage):
    """The accessibility statement (déclaration d'accessibilité) the law requires of a public
    site: its compliance level is a field, since the footer of every page states it."""

    class Compliance(models.TextChoices):
        NONE = "none", _("non compliant")
        PARTIAL = "partial", _("partially compliant")
        FULL = "full", _("fully compliant")

    compliance = models.CharField(
        _("compliance level"),
        max_length=10,
        choices=Compliance.choices,
        default=Compliance.NONE,
        help_text=_(
            "As measured by an audit against the RGAA. Without an audit the site is "
            "non compliant. Every page's footer shows it."
        ),
    )
    statement_date = models.DateField(_("date of the statement"), null=True, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(BodyBlock(), blank=True, use_json_field=True)

    content_panels = Page.content_panels + [
        FieldPanel("compliance"),
        FieldPanel("statement_date"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("accessibility statement")


class SiteMapPage(PortalPage):
    """The site map (plan du site): the portal's live pages in this language, then the pages
    of the applications (search, signup, spaces), built when the page renders."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("site map")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["tree"] = page_tree(request, self)
        context["app_links"] = app_links()
        return context


@register_setting(icon="list-ul")
class FooterSettings(BaseSiteSetting):
    """The pages the footer of every page links to, as the State's design system requires.

    Chosen in the portal's French tree; each language's footer links to their translation.
    """

    accessibility_page = models.ForeignKey(
        AccessibilityPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("accessibility statement"),
        help_text=_("Without one, the footer says the site is non compliant."),
    )
    legal_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("legal notice"),
    )
    personal_data_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("personal data"),
    )
    sitemap_page = models.ForeignKey(
        SiteMapPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("site map"),
    )

    PAGES = ("accessibility_page", "legal_page", "personal_data_page", "sitemap_page")
    panels = [FieldPanel(name) for name in PAGES]

    class Meta:
        verbose_name = _("footer pages")

    def clean(self):
        """A page of another portal would send this portal's visitors elsewhere."""
        errors = {}
        for name in self.PAGES:
            page = getattr(self, name)
            if page is not None and not belongs_to(page, self.site):
                errors[name] = _("Choose a page of this portal.")
        if errors:
            raise ValidationError(errors)


def tree_paths(site) -> list[str]:
    """The tree paths of the site's home page in each of its languages."""
    return list(site.root_page.get_translations(inclusive=True).values_list("path", flat=True))


def belongs_to(page, site, paths: list[str] | None = None) -> bool:
    """Whether `page` is in the site's tree, in any of its languages."""
    return any(page.path.startswith(path) for path in paths or tree_paths(site))

"""The links of every page's header menu and footer, for the current portal and language."""

from wagtail.models import Locale

from .models import AccessibilityPage, FooterSettings, belongs_to, tree_paths
from .navigation import localized_root, per_language

NO_LINKS = {
    "menu": [],
    "accessibility": "",
    "compliance": AccessibilityPage.Compliance.NONE.value,
    "legal": "",
    "personal_data": "",
    "sitemap": "",
}


def portal_links(request) -> dict:
    """The menu's [(title, url)], the footer's page URLs ("" when not chosen) and the
    accessibility compliance level (code and label in the current language), cached."""
    site = getattr(request, "site", None)
    links = NO_LINKS if site is None else per_language(request, "links", lambda: resolve(request))
    label = AccessibilityPage.Compliance(links["compliance"]).label
    return {**links, "compliance_label": label}


def resolve(request) -> dict:
    site = request.site
    locale = Locale.get_active()
    root = localized_root(site, locale.pk)
    chosen = FooterSettings.for_site(site)
    paths = tree_paths(site)

    def url(page):
        """The page in this language if translated and live, else the page itself."""
        if page is None:
            return ""
        here = page if page.locale_id == locale.pk else page.get_translation_or_none(locale)
        if here is None or not here.live:
            here = page
        if not here.live or not belongs_to(here, site, paths):
            return ""
        return here.get_url(request)

    statement = chosen.accessibility_page
    accessibility = url(statement)
    menu = root.get_children().live().public().in_menu()
    return {
        "menu": [(page.title, page.get_url(request)) for page in menu],
        "accessibility": accessibility,
        # No published statement: the law calls the site non compliant.
        "compliance": statement.compliance if accessibility else NO_LINKS["compliance"],
        "legal": url(chosen.legal_page),
        "personal_data": url(chosen.personal_data_page),
        "sitemap": url(chosen.sitemap_page),
    }

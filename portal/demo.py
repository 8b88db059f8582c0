"""Demo content: two campaign portals, French first with English translations.

Idempotent (keyed on slugs and hostnames), so `make demo` can run it on every start, and it
works on PostgreSQL under production settings as well as on the embedded SQLite.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site

from home.models import FooterSettings, HomePage, NewsIndexPage, NewsPage
from missions import postcodes
from missions.models import Activity, Domain, Mission, PostalCode
from organisations.models import Organisation
from tenants.portals import content_locales, ensure_portal

from .demo_data import FOOTER_PAGES, NEWS, ORGANISATIONS, PORTALS, TAXONOMY

FRENCH, ENGLISH = 0, 1  # sides of the (French, English) pairs of demo_data


def remove_wagtail_welcome_page():
    """Wagtail's first migration creates a placeholder page and site; the demo replaces them."""
    for page in Page.objects.filter(depth=2, content_type__model="page", slug="home"):
        Site.objects.filter(root_page=page).delete()
        page.delete()


def publish_translation(page, locale, fields):
    translated = page.get_translations().filter(locale=locale).first()
    if translated is not None:
        return translated.specific  # already there: leave editors' changes alone
    translated = page.copy_for_translation(locale).specific
    for name, value in fields.items():
        setattr(translated, name, value)
    translated.save_revision().publish()
    return translated


def ensure_page(parent, model, slug, fields):
    page = parent.get_children().filter(slug=slug).specific().first()
    if page is None:
        page = parent.add_child(instance=model(slug=slug, **fields))
        page.save_revision().publish()
    return page


def in_language(texts: dict, language: int) -> dict:
    """A page's fields in one language, from demo_data's pairs; StreamFields as blocks."""
    fields = {name: pair[language] for name, pair in texts.items() if isinstance(pair, tuple)}
    if "key_figures" in texts:
        fields["key_figures"] = [
            ("figure", {"label": label[language], "source": source, "value": value})
            for label, source, value in texts["key_figures"]
        ]
    if "questions" in texts:
        fields["questions"] = [
            ("question", {"question": question[language], "answer": answer[language]})
            for question, answer in texts["questions"]
        ]
    if "body" in texts:
        fields["body"] = [(kind, text[language]) for kind, text in texts["body"]]
    return fields


def ensure_translated_page(parent, model, slug, texts, english, **fields):
    """The French page (with `fields`, which its translation copies) and its English one."""
    page = ensure_page(parent, model, slug, {**fields, **in_language(texts, FRENCH)})
    publish_translation(page, english, in_language(texts, ENGLISH))
    return page


@transaction.atomic
def load_demo(port: int = 80) -> dict:
    fr, en = content_locales()
    remove_wagtail_welcome_page()
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=fr)
    )
    sites = {}
    for portal in PORTALS:
        partners = [("partner", {"name": n, "logo": None, "url": ""}) for n in portal["partners"]]
        home = ensure_translated_page(
            root, HomePage, portal["slug"], portal["home"], en, locale=fr, partners=partners
        )
        for model, slug, texts in portal["pages"]:
            child = ensure_translated_page(home, model, slug, texts, en, show_in_menus=True)
            if model is NewsIndexPage:
                news = NEWS["slug"], NEWS["texts"]
                ensure_translated_page(child, NewsPage, *news, en, date=NEWS["date"])
        site = ensure_portal(root_page=home, port=port, **portal["site"])
        ensure_footer_pages(site, home, en)
        sites[portal["slug"]] = site

    domains = ensure_taxonomies()
    if not PostalCode.objects.exists():
        postcodes.load(postcodes.SAMPLE)
    for org in ORGANISATIONS:
        ensure_organisation(org, sites[org["portal"]], domains[org["domain"]])
    return sites


def ensure_footer_pages(site, home, english):
    """The accessibility statement, legal notice, personal data and site map pages, and the
    footer's links to them (a link an editor already chose is left alone)."""
    footer = FooterSettings.for_site(site)
    changed = False
    for field, (model, slug, texts, fields) in FOOTER_PAGES.items():
        page = ensure_translated_page(home, model, slug, texts, english, **fields)
        if getattr(footer, f"{field}_id") is None:
            setattr(footer, field, page)
            changed = True
    if changed:
        footer.save()


def ensure_organisation(org: dict, site, domain):
    """A validated association of `site` and its missions, open from next week."""
    name, city, postal_code = org["name"], org["city"], org["postal_code"]
    organisation, _ = Organisation.objects.update_or_create(
        slug=org["slug"],
        defaults={
            "site": site,
            "status": Organisation.Status.VALIDATED,
            "type": Organisation.Type.ASSOCIATION,
            "name": name,
            "city": city,
            "postal_code": postal_code,
            "rna": f"W{postal_code}{len(org['slug']):04d}"[:10],
            "contact_email": f"contact@{org['slug']}.example.org",
            "description": f"{name} agit au quotidien à {city} auprès des plus fragiles.",
        },
    )
    today = timezone.localdate()
    for slug, title, lat, lng, places in org["missions"]:
        mission, _ = Mission.objects.update_or_create(
            slug=slug,
            defaults={
                "organisation": organisation,
                "domain": domain,
                "activity": domain.activities.first(),
                "title": title,
                "description": f"{title}, avec l'équipe de {name}. Aucune compétence "
                "particulière n'est requise : une formation est assurée le premier jour.",
                "city": city,
                "postal_code": postal_code,
                "latitude": lat,
                "longitude": lng,
                "places": places,
                "start_date": today + datetime.timedelta(days=7),
                "end_date": today + datetime.timedelta(days=90),
                "status": Mission.Status.VALIDATED,
            },
        )
        mission.sites.add(site)
    return organisation


def ensure_taxonomies() -> dict:
    """The demo's domains by slug, with their activities."""
    domains = {}
    french = content_locales()[0]  # the sources; translations keep their slug
    for slug, name, activities in TAXONOMY:
        domain, _ = Domain.objects.get_or_create(slug=slug, locale=french, defaults={"name": name})
        for a_slug, a_name in activities:
            Activity.objects.get_or_create(
                slug=a_slug, locale=french, defaults={"name": a_name, "domain": domain}
            )
        domains[slug] = domain
    return domains


def ensure_user(email: str, password: str, **flags):
    """Create the user if missing. Returns (user, created): an existing password is kept."""
    User = get_user_model()
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User(email=email, email_confirmed_at=timezone.now(), **flags)
    user.set_password(password)
    user.save()
    return user, True

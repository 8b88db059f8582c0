"""Demo content: two campaign portals, French first with English translations.

Idempotent (keyed on slugs and hostnames), so `make demo` can run it on every start, and it
works on PostgreSQL under production settings as well as on the embedded SQLite.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale, Page, Site

from home.models import CampaignPage, FaqPage, HomePage, NewsIndexPage, NewsPage, StandardPage
from missions import postcodes
from missions.models import Activity, Domain, Mission, PostalCode
from organisations.models import Organisation
from organisations.services import ensure_moderators_group
from tenants.portals import ensure_editors_group, ensure_portal

PORTALS = [
    {
        "hostname": "localhost",
        "name": "Je veux aider",
        "slug": "jeveuxaider",
        "default": True,
        "fr": {
            "title": "Je veux aider",
            "hero_title": "Engagez-vous près de chez vous",
            "hero_text": "Des milliers d'associations et de services publics cherchent des "
            "bénévoles. Trouvez une mission qui vous ressemble, en quelques minutes.",
            "call_to_action": "Je deviens bénévole",
            "key_figures": [
                ("figure", {"label": "bénévoles inscrits", "source": "volunteers", "value": ""}),
                ("figure", {"label": "missions ouvertes", "source": "missions", "value": ""}),
                ("figure", {"label": "départements couverts", "source": "", "value": "101"}),
            ],
            "partners": [
                ("partner", {"name": "Réserve civique", "logo": None, "url": ""}),
                ("partner", {"name": "France Bénévolat", "logo": None, "url": ""}),
            ],
        },
        "en": {
            "title": "I want to help",
            "hero_title": "Volunteer near you",
            "hero_text": "Thousands of associations and public services are looking for "
            "volunteers. Find a mission that suits you, in a few minutes.",
            "call_to_action": "Become a volunteer",
            "key_figures": [
                ("figure", {"label": "volunteers signed up", "source": "volunteers", "value": ""}),
                ("figure", {"label": "open missions", "source": "missions", "value": ""}),
                ("figure", {"label": "départements covered", "source": "", "value": "101"}),
            ],
        },
        "pages": [
            (
                StandardPage,
                "comment-ca-marche",
                {
                    "title": "Comment ça marche ?",
                    "intro": "Inscrivez-vous, choisissez une "
                    "mission, l'association vous recontacte sous 48 heures.",
                },
                {
                    "title": "How does it work?",
                    "intro": "Sign up, choose a mission, the "
                    "association gets back to you within 48 hours.",
                },
            ),
            (
                StandardPage,
                "associations",
                {
                    "title": "Vous êtes une association ?",
                    "intro": "Publiez vos missions et "
                    "recevez des candidatures de bénévoles près de chez vous.",
                },
                {
                    "title": "Are you an association?",
                    "intro": "Publish your missions and "
                    "receive applications from volunteers near you.",
                },
            ),
            (
                FaqPage,
                "questions-frequentes",
                {
                    "title": "Questions fréquentes",
                    "intro": "Tout savoir avant de vous engager.",
                    "questions": [
                        (
                            "question",
                            {
                                "question": "Faut-il des compétences particulières ?",
                                "answer": "<p>Non : chaque mission précise ses prérequis, "
                                "la plupart n'en ont aucun.</p>",
                            },
                        ),
                        (
                            "question",
                            {
                                "question": "À partir de quel âge peut-on s'inscrire ?",
                                "answer": "<p>Dès 16 ans.</p>",
                            },
                        ),
                    ],
                },
                {
                    "title": "Frequently asked questions",
                    "intro": "All you need to know first.",
                    "questions": [
                        (
                            "question",
                            {
                                "question": "Do I need particular skills?",
                                "answer": "<p>No: each mission lists its prerequisites, "
                                "most have none.</p>",
                            },
                        ),
                        (
                            "question",
                            {
                                "question": "How old must I be to sign up?",
                                "answer": "<p>16 or older.</p>",
                            },
                        ),
                    ],
                },
            ),
            (
                NewsIndexPage,
                "actualites",
                {"title": "Actualités", "intro": "Les nouvelles de la mobilisation."},
                {"title": "News", "intro": "News from the mobilisation."},
            ),
        ],
    },
    {
        "hostname": "covid19.localhost",
        "name": "Réserve civique · Covid-19",
        "slug": "covid19",
        "default": False,
        "fr": {
            "title": "Mobilisation Covid-19",
            "hero_title": "Face à la crise, la solidarité",
            "hero_text": "Aide alimentaire d'urgence, garde d'enfants des soignants, lien avec "
            "les personnes âgées isolées, courses solidaires : quatre missions vitales.",
            "call_to_action": "Je me mobilise",
            "key_figures": [
                ("figure", {"label": "bénévoles mobilisés", "source": "volunteers", "value": ""}),
                ("figure", {"label": "missions vitales", "source": "missions", "value": ""}),
            ],
        },
        "en": {
            "title": "Covid-19 mobilisation",
            "hero_title": "Solidarity in the crisis",
            "hero_text": "Emergency food aid, childcare for health workers, keeping in touch "
            "with isolated elderly people, solidarity shopping: four vital missions.",
            "call_to_action": "I'm in",
            "key_figures": [
                ("figure", {"label": "volunteers mobilised", "source": "volunteers", "value": ""}),
                ("figure", {"label": "vital missions", "source": "missions", "value": ""}),
            ],
        },
        "pages": [
            (
                CampaignPage,
                "gestes-barrieres",
                {
                    "title": "Les gestes barrières en mission",
                    "call_to_action": "Je me mobilise",
                    "hero_text": "Chaque mission "
                    "respecte les consignes sanitaires : distance, masque, lavage des mains.",
                },
                {
                    "title": "Protective measures on a mission",
                    "call_to_action": "I'm in",
                    "hero_text": "Every mission follows "
                    "health guidelines: distance, masks, hand washing.",
                },
            ),
        ],
    },
]

ORGANISATIONS = [
    # (slug, name, city, postal code, portal slug, missions)
    (
        "banque-alimentaire-rhone",
        "Banque alimentaire du Rhône",
        "Lyon",
        "69007",
        "jeveuxaider",
        [
            ("tri-denrees-lyon", "Trier les denrées collectées", 45.7485, 4.8467, 12),
            ("distribution-colis-lyon", "Préparer et distribuer des colis", 45.7640, 4.8357, 6),
        ],
    ),
    (
        "epicerie-solidaire-belleville",
        "Épicerie solidaire de Belleville",
        "Paris",
        "75020",
        "jeveuxaider",
        [
            (
                "accueil-epicerie-belleville",
                "Accueillir les bénéficiaires à l'épicerie",
                48.8721,
                2.3800,
                3,
            ),
        ],
    ),
    (
        "ccas-lille",
        "Centre communal d'action sociale de Lille",
        "Lille",
        "59000",
        "covid19",
        [
            ("appels-seniors-lille", "Appeler les personnes âgées isolées", 50.6292, 3.0573, 20),
            (
                "courses-solidaires-lille",
                "Faire les courses des personnes fragiles",
                50.6310,
                3.0600,
                10,
            ),
        ],
    ),
]


def ensure_locales():
    fr, _ = Locale.objects.get_or_create(language_code="fr")
    en, _ = Locale.objects.get_or_create(language_code="en")
    return fr, en


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


@transaction.atomic
def load_demo(port: int = 80) -> dict:
    fr, en = ensure_locales()
    remove_wagtail_welcome_page()
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=fr)
    )
    sites = {}
    for portal in PORTALS:
        home = ensure_page(root, HomePage, portal["slug"], {"locale": fr, **portal["fr"]})
        publish_translation(home, en, portal["en"])
        for model, slug, fr_fields, en_fields in portal["pages"]:
            child = ensure_page(home, model, slug, {"show_in_menus": True, **fr_fields})
            publish_translation(child, en, en_fields)
            if model is NewsIndexPage:
                news = ensure_page(
                    child,
                    NewsPage,
                    "lancement",
                    {
                        "title": "La plateforme est ouverte",
                        "date": datetime.date(2020, 3, 22),
                        "intro": "Associations et bénévoles peuvent s'inscrire dès aujourd'hui.",
                    },
                )
                publish_translation(
                    news,
                    en,
                    {
                        "title": "The platform is open",
                        "intro": "Associations and volunteers can sign up from today.",
                    },
                )
        site = ensure_portal(
            hostname=portal["hostname"],
            name=portal["name"],
            root_page=home,
            port=port,
            is_default=portal["default"],
        )
        # Translations may have been added after the group was first made.
        ensure_editors_group(site)
        sites[portal["slug"]] = site

    for site in sites.values():
        ensure_moderators_group(site)
    food, solidarity = ensure_taxonomies()
    if not PostalCode.objects.exists():
        postcodes.load(postcodes.SAMPLE)
    today = timezone.localdate()
    for slug, name, city, postal_code, portal_slug, missions in ORGANISATIONS:
        site = sites[portal_slug]
        organisation, _ = Organisation.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "site": site,
                "city": city,
                "postal_code": postal_code,
                "status": Organisation.Status.VALIDATED,
                "type": Organisation.Type.ASSOCIATION,
                "rna": f"W{postal_code}{len(slug):04d}"[:10],
                "contact_email": f"contact@{slug}.example.org",
                "description": f"{name} agit au quotidien à {city} auprès des plus fragiles.",
            },
        )
        for m_slug, title, lat, lng, places in missions:
            domain = solidarity if "seniors" in m_slug or "courses" in m_slug else food
            mission, _ = Mission.objects.update_or_create(
                slug=m_slug,
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
    return sites


TAXONOMY = [
    ("aide-alimentaire", "Aide alimentaire", [("tri-distribution", "Tri et distribution")]),
    ("lien-social", "Lien social", [("appels-visites", "Appels et visites"),
                                    ("courses", "Courses solidaires")]),
    ("sante", "Santé", [("accueil-orientation", "Accueil et orientation")]),
]  # fmt: skip


def ensure_taxonomies():
    domains = {}
    for slug, name, activities in TAXONOMY:
        domain, _ = Domain.objects.get_or_create(slug=slug, defaults={"name": name})
        for a_slug, a_name in activities:
            Activity.objects.get_or_create(slug=a_slug, defaults={"name": a_name, "domain": domain})
        domains[slug] = domain
    return domains["aide-alimentaire"], domains["lien-social"]


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

"""What the demo loader (portal/demo.py) puts in: two campaign portals, their pages, three
associations and their missions, a small taxonomy.

Texts are (French, English) pairs: French is the portals' first language, English its
translation. Key figures are (label, live count or "", fixed value); questions are
(question, answer).
"""

import datetime

from home.models import CampaignPage, FaqPage, NewsIndexPage, StandardPage

PORTALS = [
    {
        "slug": "jeveuxaider",
        "site": {"hostname": "localhost", "name": "Je veux aider", "is_default": True},
        "home": {
            "title": ("Je veux aider", "I want to help"),
            "hero_title": ("Engagez-vous près de chez vous", "Volunteer near you"),
            "hero_text": (
                "Des milliers d'associations et de services publics cherchent des bénévoles. "
                "Trouvez une mission qui vous ressemble, en quelques minutes.",
                "Thousands of associations and public services are looking for volunteers. "
                "Find a mission that suits you, in a few minutes.",
            ),
            "call_to_action": ("Je deviens bénévole", "Become a volunteer"),
            "key_figures": [
                (("bénévoles inscrits", "volunteers signed up"), "volunteers", ""),
                (("missions ouvertes", "open missions"), "missions", ""),
                (("départements couverts", "départements covered"), "", "101"),
            ],
        },
        "partners": ["Réserve civique", "France Bénévolat"],
        "pages": [
            (
                StandardPage,
                "comment-ca-marche",
                {
                    "title": ("Comment ça marche ?", "How does it work?"),
                    "intro": (
                        "Inscrivez-vous, choisissez une mission, l'association vous recontacte "
                        "sous 48 heures.",
                        "Sign up, choose a mission, the association gets back to you within 48 "
                        "hours.",
                    ),
                },
            ),
            (
                StandardPage,
                "associations",
                {
                    "title": ("Vous êtes une association ?", "Are you an association?"),
                    "intro": (
                        "Publiez vos missions et recevez des candidatures de bénévoles près "
                        "de chez vous.",
                        "Publish your missions and receive applications from volunteers near you.",
                    ),
                },
            ),
            (
                FaqPage,
                "questions-frequentes",
                {
                    "title": ("Questions fréquentes", "Frequently asked questions"),
                    "intro": ("Tout savoir avant de vous engager.", "All you need to know first."),
                    "questions": [
                        (
                            (
                                "Faut-il des compétences particulières ?",
                                "Do I need particular skills?",
                            ),
                            (
                                "<p>Non : chaque mission précise ses prérequis, la plupart "
                                "n'en ont aucun.</p>",
                                "<p>No: each mission lists its prerequisites, most have none.</p>",
                            ),
                        ),
                        (
                            (
                                "À partir de quel âge peut-on s'inscrire ?",
                                "How old must I be to sign up?",
                            ),
                            ("<p>Dès 16 ans.</p>", "<p>16 or older.</p>"),
                        ),
                    ],
                },
            ),
            (
                NewsIndexPage,
                "actualites",
                {
                    "title": ("Actualités", "News"),
                    "intro": ("Les nouvelles de la mobilisation.", "News from the mobilisation."),
                },
            ),
        ],
    },
    {
        "slug": "covid19",
        "site": {
            "hostname": "covid19.localhost",
            "name": "Réserve civique · Covid-19",
            "is_default": False,
        },
        "home": {
            "title": ("Mobilisation Covid-19", "Covid-19 mobilisation"),
            "hero_title": ("Face à la crise, la solidarité", "Solidarity in the crisis"),
            "hero_text": (
                "Aide alimentaire d'urgence, garde d'enfants des soignants, lien avec les "
                "personnes âgées isolées, courses solidaires : quatre missions vitales.",
                "Emergency food aid, childcare for health workers, keeping in touch with "
                "isolated elderly people, solidarity shopping: four vital missions.",
            ),
            "call_to_action": ("Je me mobilise", "I'm in"),
            "key_figures": [
                (("bénévoles mobilisés", "volunteers mobilised"), "volunteers", ""),
                (("missions vitales", "vital missions"), "missions", ""),
            ],
        },
        "partners": [],
        "pages": [
            (
                CampaignPage,
                "gestes-barrieres",
                {
                    "title": (
                        "Les gestes barrières en mission",
                        "Protective measures on a mission",
                    ),
                    "call_to_action": ("Je me mobilise", "I'm in"),
                    "hero_text": (
                        "Chaque mission respecte les consignes sanitaires : distance, masque, "
                        "lavage des mains.",
                        "Every mission follows health guidelines: distance, masks, hand washing.",
                    ),
                },
            ),
        ],
    },
]

# The news item every news index starts with.
NEWS = {
    "slug": "lancement",
    "date": datetime.date(2020, 3, 22),
    "texts": {
        "title": ("La plateforme est ouverte", "The platform is open"),
        "intro": (
            "Associations et bénévoles peuvent s'inscrire dès aujourd'hui.",
            "Associations and volunteers can sign up from today.",
        ),
    },
}

TAXONOMY = [  # (domain slug, name, its activities as (slug, name))
    ("aide-alimentaire", "Aide alimentaire", [("tri-distribution", "Tri et distribution")]),
    (
        "lien-social",
        "Lien social",
        [("appels-visites", "Appels et visites"), ("courses", "Courses solidaires")],
    ),
    ("sante", "Santé", [("accueil-orientation", "Accueil et orientation")]),
]

ORGANISATIONS = [  # missions: (slug, title, latitude, longitude, places)
    {
        "slug": "banque-alimentaire-rhone",
        "name": "Banque alimentaire du Rhône",
        "city": "Lyon",
        "postal_code": "69007",
        "portal": "jeveuxaider",
        "domain": "aide-alimentaire",
        "missions": [
            ("tri-denrees-lyon", "Trier les denrées collectées", 45.7485, 4.8467, 12),
            ("distribution-colis-lyon", "Préparer et distribuer des colis", 45.7640, 4.8357, 6),
        ],
    },
    {
        "slug": "epicerie-solidaire-belleville",
        "name": "Épicerie solidaire de Belleville",
        "city": "Paris",
        "postal_code": "75020",
        "portal": "jeveuxaider",
        "domain": "aide-alimentaire",
        "missions": [
            (
                "accueil-epicerie-belleville",
                "Accueillir les bénéficiaires à l'épicerie",
                48.8721,
                2.3800,
                3,
            ),
        ],
    },
    {
        "slug": "ccas-lille",
        "name": "Centre communal d'action sociale de Lille",
        "city": "Lille",
        "postal_code": "59000",
        "portal": "covid19",
        "domain": "lien-social",
        "missions": [
            ("appels-seniors-lille", "Appeler les personnes âgées isolées", 50.6292, 3.0573, 20),
            (
                "courses-solidaires-lille",
                "Faire les courses des personnes fragiles",
                50.6310,
                3.0600,
                10,
            ),
        ],
    },
]

"""What the demo loader (portal/demo.py) puts in: two campaign portals, their pages, three
associations and their missions, a small taxonomy.

Texts are (French, English) pairs: French is the portals' first language, English its
translation. Key figures are (label, live count or "", fixed value); questions are
(question, answer); bodies are (block type, text) with the text a pair.
"""

import datetime

from home.models import (
    AccessibilityPage,
    CampaignPage,
    FaqPage,
    NewsIndexPage,
    SiteMapPage,
    StandardPage,
)

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

DEMO = ("[Démo] ", "[Demo] ")  # marks what a real portal must replace before going live

# The pages the State's design system requires in every footer, for each portal:
# FooterSettings field -> (page type, slug, texts, other fields).
FOOTER_PAGES = {
    "accessibility_page": (
        AccessibilityPage,
        "accessibilite",
        {
            "title": ("Déclaration d'accessibilité", "Accessibility statement"),
            "intro": (
                "L'éditeur de ce portail s'engage à le rendre accessible à tous, conformément à "
                "l'article 47 de la loi n° 2005-102 du 11 février 2005.",
                "The publisher of this portal is committed to making it accessible to everyone, "
                "as article 47 of French law no. 2005-102 of 11 February 2005 requires.",
            ),
            "body": [
                ("heading", ("Résultats des tests", "Test results")),
                (
                    "paragraph",
                    (
                        "<p>Aucun audit complet de conformité au RGAA n'a encore été réalisé. "
                        "Le niveau « partiellement conforme » repose sur les vérifications "
                        "faites par l'équipe pendant le développement : pages construites avec "
                        "le Système de design de l'État (DSFR), liens d'évitement, navigation au "
                        "clavier, langue de chaque page déclarée, textes alternatifs des images "
                        "saisis par les éditeurs, pages publiques contrôlées dans Chromium sur "
                        "ordinateur et sur un écran de 375 pixels de large.</p>",
                        "<p>No full RGAA compliance audit has been carried out yet. The "
                        "“partially compliant” level rests on the checks the team made while "
                        "building the portal: pages built with the State's design system "
                        "(DSFR), skip links, keyboard navigation, each page's language declared, "
                        "alternative texts of images entered by editors, public pages checked in "
                        "Chromium on a desktop and on a 375-pixel-wide screen.</p>",
                    ),
                ),
                ("heading", ("Contenus non encore audités", "Content not yet audited")),
                (
                    "paragraph",
                    (
                        "<ul><li>l'espace association : tableau de bord, éditeur de missions, "
                        "liste et export des candidatures ;</li>"
                        "<li>l'espace bénévole : profil, candidatures, export et suppression du "
                        "compte ;</li>"
                        "<li>la recherche de missions : filtres et annonce des résultats aux "
                        "lecteurs d'écran ;</li>"
                        "<li>les images et documents déposés par les éditeurs (documents PDF "
                        "notamment) ;</li>"
                        "<li>l'usage avec un lecteur d'écran (NVDA, JAWS, VoiceOver) et un zoom "
                        "de 200 %, pas encore testés ;</li>"
                        "<li>l'interface d'administration des éditeurs, hors du service "
                        "public.</li></ul>",
                        "<ul><li>the association space: dashboard, mission editor, applicants' "
                        "list and export;</li>"
                        "<li>the volunteer space: profile, applications, data export and "
                        "account deletion;</li>"
                        "<li>the mission search: filters and how results are announced to "
                        "screen readers;</li>"
                        "<li>images and documents uploaded by editors (PDF documents in "
                        "particular);</li>"
                        "<li>use with a screen reader (NVDA, JAWS, VoiceOver) and at 200% zoom, "
                        "not tested yet;</li>"
                        "<li>the editors' administration interface, outside the public "
                        "service.</li></ul>",
                    ),
                ),
                ("heading", ("Établissement de cette déclaration", "How this statement was made")),
                (
                    "paragraph",
                    (
                        "<p>Technologies utilisées : HTML5, CSS, JavaScript (DSFR). "
                        "Environnement de vérification : Chromium récent, clavier seul. "
                        "Un audit par un tiers est à programmer ; cette déclaration sera mise à "
                        "jour avec ses résultats.</p>",
                        "<p>Technologies used: HTML5, CSS, JavaScript (DSFR). Checked with: a "
                        "recent Chromium, keyboard only. An audit by a third party is to be "
                        "scheduled; this statement will be updated with its results.</p>",
                    ),
                ),
                ("heading", ("Retour d'information et contact", "Feedback and contact")),
                (
                    "paragraph",
                    (
                        "<p>Si vous n'arrivez pas à accéder à un contenu ou à un service, "
                        "écrivez à accessibilite@example.org (adresse de la démonstration) : "
                        "nous vous orienterons vers une alternative accessible ou vous "
                        "fournirons le contenu sous une autre forme.</p>",
                        "<p>If you cannot access some content or a service, write to "
                        "accessibilite@example.org (the demonstration's address): we will point "
                        "you to an accessible alternative or send you the content in another "
                        "form.</p>",
                    ),
                ),
                ("heading", ("Voies de recours", "Remedies")),
                (
                    "paragraph",
                    (
                        "<p>Si vous avez signalé un défaut d'accessibilité qui vous empêche "
                        "d'accéder à un contenu ou à un service et n'avez pas obtenu de réponse "
                        "satisfaisante, vous pouvez :</p><ul>"
                        '<li>écrire au <a href="https://formulaire.defenseurdesdroits.fr/">'
                        "Défenseur des droits</a> ;</li>"
                        '<li>contacter <a href="https://www.defenseurdesdroits.fr/">le délégué '
                        "du Défenseur des droits de votre région</a> ;</li>"
                        "<li>envoyer un courrier, gratuitement et sans timbre, à : Défenseur "
                        "des droits, Libre réponse 71120, 75342 Paris CEDEX 07.</li></ul>",
                        "<p>If you reported an accessibility problem that keeps you from some "
                        "content or service and did not get a satisfactory answer, you may:</p>"
                        '<ul><li>write to the <a href="https://formulaire.defenseurdesdroits.fr/"'
                        ">Défenseur des droits</a> (the French rights ombudsman);</li>"
                        '<li>contact <a href="https://www.defenseurdesdroits.fr/">the Défenseur '
                        "des droits' delegate in your region</a>;</li>"
                        "<li>send a letter, free of charge and without a stamp, to: Défenseur "
                        "des droits, Libre réponse 71120, 75342 Paris CEDEX 07.</li></ul>",
                    ),
                ),
            ],
        },
        {
            "compliance": AccessibilityPage.Compliance.PARTIAL,
            "statement_date": datetime.date(2026, 11, 27),
        },
    ),
    "legal_page": (
        StandardPage,
        "mentions-legales",
        {
            "title": ("Mentions légales", "Legal notice"),
            "intro": (
                "Ce portail est une démonstration : l'éditeur, le directeur de la publication "
                "et l'hébergeur marqués [Démo] sont des exemples à remplacer avant toute mise en "
                "ligne.",
                "This portal is a demonstration: the publisher, publication director and host "
                "marked [Demo] are examples to replace before going live.",
            ),
            "body": [
                ("heading", ("Éditeur", "Publisher")),
                (
                    "paragraph",
                    (
                        f"<p>{DEMO[0]}Ministère de l'Engagement citoyen (éditeur fictif de la "
                        "démonstration)<br>1 rue de l'Exemple, 75000 Paris<br>"
                        "contact@example.org</p>",
                        f"<p>{DEMO[1]}Ministère de l'Engagement citoyen (the demonstration's "
                        "fictitious publisher)<br>1 rue de l'Exemple, 75000 Paris, France<br>"
                        "contact@example.org</p>",
                    ),
                ),
                ("heading", ("Directeur de la publication", "Publication director")),
                (
                    "paragraph",
                    (
                        f"<p>{DEMO[0]}La directrice ou le directeur de l'éditeur, nommément "
                        "désigné.</p>",
                        f"<p>{DEMO[1]}The publisher's director, named in person.</p>",
                    ),
                ),
                ("heading", ("Hébergement", "Hosting")),
                (
                    "paragraph",
                    (
                        f"<p>{DEMO[0]}Nom, adresse et téléphone de l'hébergeur, comme l'exige "
                        "l'article 6 de la loi n° 2004-575 du 21 juin 2004 pour la confiance "
                        "dans l'économie numérique.</p>",
                        f"<p>{DEMO[1]}The host's name, address and phone number, as article 6 "
                        "of French law no. 2004-575 of 21 June 2004 on confidence in the "
                        "digital economy requires.</p>",
                    ),
                ),
                ("heading", ("Réutilisation des contenus", "Reuse of content")),
                (
                    "paragraph",
                    (
                        "<p>Sauf mention contraire, les textes de ce portail sont publiés sous "
                        '<a href="https://github.com/etalab/licence-ouverte/blob/master/LO.md">'
                        "licence Etalab 2.0</a> : vous pouvez les reprendre en citant leur "
                        "source. Les logos des partenaires restent leur propriété.</p>",
                        "<p>Unless stated otherwise, this portal's texts are published under "
                        'the <a href="https://github.com/etalab/licence-ouverte/blob/master/'
                        'LO.md">Etalab 2.0 licence</a>: you may reuse them, citing their '
                        "source. Partners' logos remain their property.</p>",
                    ),
                ),
            ],
        },
        {},
    ),
    "personal_data_page": (
        StandardPage,
        "donnees-personnelles",
        {
            "title": ("Données personnelles", "Personal data"),
            "intro": (
                "Ce que le portail garde à votre sujet, pourquoi, combien de temps, et comment "
                "exercer vos droits.",
                "What the portal keeps about you, why, for how long, and how to exercise your "
                "rights.",
            ),
            "body": [
                ("heading", ("Ce que le portail garde", "What the portal keeps")),
                (
                    "paragraph",
                    (
                        "<ul><li>à l'inscription : votre adresse électronique, vos prénom et "
                        "nom, votre code postal, votre date de naissance, votre téléphone si "
                        "vous le donnez, et la date de votre accord ;</li>"
                        "<li>dans votre espace : vos disponibilités et les domaines qui vous "
                        "intéressent ;</li>"
                        "<li>quand vous candidatez : la mission, le message que vous écrivez à "
                        "l'association et le suivi de votre candidature ;</li>"
                        "<li>les courriels que le portail vous envoie (adresse, prénom, "
                        "objet).</li></ul>",
                        "<ul><li>when you sign up: your email address, first and last name, "
                        "postal code, date of birth, your phone number if you give it, and the "
                        "date you agreed;</li>"
                        "<li>in your space: when you are available and the fields that "
                        "interest you;</li>"
                        "<li>when you apply: the mission, the message you write to the "
                        "association and how your application stands;</li>"
                        "<li>the emails the portal sends you (address, first name, "
                        "subject).</li></ul>",
                    ),
                ),
                ("heading", ("Pourquoi, et qui les voit", "Why, and who sees it")),
                (
                    "paragraph",
                    (
                        "<p>Pour vous mettre en relation avec les associations dont vous "
                        "choisissez les missions. Une association ne voit que les candidatures "
                        "faites chez elle : vos nom, adresse électronique, téléphone, code "
                        "postal et message. Vos données ne sont ni vendues ni utilisées pour de "
                        "la publicité.</p>",
                        "<p>To put you in touch with the associations whose missions you "
                        "choose. An association sees only the applications made to it: your "
                        "name, email address, phone number, postal code and message. Your data "
                        "is neither sold nor used for advertising.</p>",
                    ),
                ),
                ("heading", ("Combien de temps", "For how long")),
                (
                    "paragraph",
                    (
                        "<ul><li>un compte dont l'adresse n'a jamais été confirmée est supprimé "
                        "au bout de 7 jours, avec ses courriels ;</li>"
                        "<li>la trace d'un courriel envoyé est effacée au bout de 90 jours ;</li>"
                        "<li>votre compte est gardé tant que vous le gardez. Quand vous le "
                        "supprimez, vos candidatures en cours sont annulées, vos messages, nom, "
                        "date de naissance, téléphone et code postal effacés ; il ne reste "
                        "qu'une ligne anonyme qui permet aux associations de garder leurs "
                        "statistiques ;</li>"
                        "<li>une adresse où les courriels ne peuvent pas être remis est gardée "
                        "pour ne plus y écrire, jusqu'à ce que l'équipe la retire.</li></ul>",
                        "<ul><li>an account whose address was never confirmed is deleted after "
                        "7 days, with its emails;</li>"
                        "<li>the record of an email sent is erased after 90 days;</li>"
                        "<li>your account is kept as long as you keep it. When you delete it, "
                        "your open applications are cancelled and your messages, name, date of "
                        "birth, phone number and postal code erased; only an anonymous row "
                        "remains, so that associations keep their statistics;</li>"
                        "<li>an address where emails cannot be delivered is kept so as not to "
                        "write to it again, until the team removes it.</li></ul>",
                    ),
                ),
                ("heading", ("Vos droits", "Your rights")),
                (
                    "paragraph",
                    (
                        "<p>Dans votre espace bénévole, vous modifiez votre profil, téléchargez "
                        "toutes vos données (compte, candidatures et messages, associations "
                        "dont vous êtes membre, courriels reçus) et supprimez votre compte. "
                        "Vous avez un droit d'accès, de rectification, d'effacement, de "
                        "limitation et d'opposition (règlement général sur la protection des "
                        "données). Écrivez à dpd@example.org (adresse de la démonstration) ; "
                        'vous pouvez aussi saisir la <a href="https://www.cnil.fr/">CNIL</a>.'
                        "</p>",
                        "<p>In your volunteer space you edit your profile, download all your "
                        "data (account, applications and messages, the associations you are a "
                        "member of, emails received) and delete your account. You have the "
                        "rights of access, rectification, erasure, restriction and objection "
                        "(General Data Protection Regulation). Write to dpd@example.org (the "
                        "demonstration's address); you may also complain to the "
                        '<a href="https://www.cnil.fr/">CNIL</a>, the French data protection '
                        "authority.</p>",
                    ),
                ),
                ("heading", ("Cookies", "Cookies")),
                (
                    "paragraph",
                    (
                        "<p>Aucun cookie de mesure d'audience ni de publicité. Un cookie de "
                        "session est déposé quand vous vous connectez, et un cookie de sécurité "
                        "quand vous envoyez un formulaire : nécessaires au service, ils ne "
                        "demandent pas de consentement.</p>",
                        "<p>No audience measurement or advertising cookies. A session cookie "
                        "is set when you sign in, and a security cookie when you send a form: "
                        "needed by the service, they require no consent.</p>",
                    ),
                ),
            ],
        },
        {},
    ),
    "sitemap_page": (
        SiteMapPage,
        "plan-du-site",
        {
            "title": ("Plan du site", "Site map"),
            "intro": ("Toutes les pages du portail.", "Every page of the portal."),
        },
        {},
    ),
}

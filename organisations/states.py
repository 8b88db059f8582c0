from portal.workflow import Workflow

MANAGER, MODERATOR, SYSTEM = "manager", "moderator", "system"

ORGANISATION = Workflow(
    "organisation",
    {
        ("draft", "submitted"): {MANAGER},
        ("refused", "submitted"): {MANAGER},  # after corrections
        ("submitted", "validated"): {MODERATOR},
        ("submitted", "refused"): {MODERATOR},
        ("validated", "suspended"): {MODERATOR},
        ("suspended", "validated"): {MODERATOR},
    },
)

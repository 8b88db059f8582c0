from portal.workflow import Workflow

MANAGER, MODERATOR, SYSTEM, VOLUNTEER = "manager", "moderator", "system", "volunteer"

MISSION = Workflow(
    "mission",
    {
        ("draft", "submitted"): {MANAGER},
        ("submitted", "draft"): {MANAGER},  # withdrawn to edit
        ("validated", "submitted"): {MANAGER},  # its content edited: moderated again
        ("refused", "submitted"): {MANAGER},
        ("submitted", "validated"): {MODERATOR},
        ("submitted", "refused"): {MODERATOR},
        ("validated", "closed"): {MANAGER, MODERATOR, SYSTEM},  # SYSTEM: after the end date
        ("draft", "cancelled"): {MANAGER},
        ("submitted", "cancelled"): {MANAGER, MODERATOR},
        ("validated", "cancelled"): {MANAGER, MODERATOR},
    },
)

APPLICATION = Workflow(
    "application",
    {
        ("pending", "accepted"): {MANAGER},
        ("pending", "refused"): {MANAGER},
        ("waitlisted", "refused"): {MANAGER},
        ("waitlisted", "pending"): {SYSTEM},  # promoted when a place frees
        ("pending", "cancelled"): {VOLUNTEER},
        ("waitlisted", "cancelled"): {VOLUNTEER},
        ("accepted", "cancelled"): {VOLUNTEER},
        ("accepted", "done"): {MANAGER, SYSTEM},
        ("accepted", "no_show"): {MANAGER},
    },
)

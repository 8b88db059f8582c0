from portal.workflow import MANAGER, MODERATOR, SYSTEM, VOLUNTEER, Workflow

from .models import Application, Mission

M, A = Mission.Status, Application.Status

# What a moderator decides about a submitted mission (the team is emailed).
DECISIONS = (M.VALIDATED, M.REFUSED)
# What a moderator does that the team is told of, with the reason.
NOTIFIED = (*DECISIONS, M.SUSPENDED)

MISSION = Workflow(
    "mission",
    {
        (M.DRAFT, M.SUBMITTED): {MANAGER},
        (M.SUBMITTED, M.DRAFT): {MANAGER},  # withdrawn to edit
        (M.VALIDATED, M.SUBMITTED): {SYSTEM},  # its content edited: moderated again
        (M.REFUSED, M.SUBMITTED): {MANAGER},
        (M.SUBMITTED, M.VALIDATED): {MODERATOR},
        (M.SUBMITTED, M.REFUSED): {MODERATOR},
        (M.VALIDATED, M.CLOSED): {MANAGER, MODERATOR, SYSTEM},  # SYSTEM: after the end date
        (M.DRAFT, M.CANCELLED): {MANAGER},
        (M.SUBMITTED, M.CANCELLED): {MANAGER, MODERATOR},
        (M.VALIDATED, M.CANCELLED): {MANAGER, MODERATOR},
        # A reported mission taken off the portal; back once corrected and moderated again.
        (M.VALIDATED, M.SUSPENDED): {MODERATOR},
        (M.SUSPENDED, M.VALIDATED): {MODERATOR},
        (M.SUSPENDED, M.SUBMITTED): {MANAGER},
        (M.SUSPENDED, M.CANCELLED): {MANAGER, MODERATOR},
    },
)

APPLICATION = Workflow(
    "application",
    {
        (A.PENDING, A.ACCEPTED): {MANAGER},
        (A.PENDING, A.REFUSED): {MANAGER},
        (A.WAITLISTED, A.REFUSED): {MANAGER},
        (A.WAITLISTED, A.PENDING): {SYSTEM},  # promoted when a place frees
        (A.PENDING, A.CANCELLED): {VOLUNTEER},
        (A.WAITLISTED, A.CANCELLED): {VOLUNTEER},
        (A.ACCEPTED, A.CANCELLED): {VOLUNTEER},
        (A.ACCEPTED, A.DONE): {MANAGER, SYSTEM},
        (A.ACCEPTED, A.NO_SHOW): {MANAGER},
    },
)

from portal.workflow import MANAGER, MODERATOR, Workflow

from .models import Organisation

S = Organisation.Status

# What a moderator decides about a submitted organisation (the team is emailed).
DECISIONS = (S.VALIDATED, S.REFUSED)

ORGANISATION = Workflow(
    "organisation",
    {
        (S.DRAFT, S.SUBMITTED): {MANAGER},
        (S.REFUSED, S.SUBMITTED): {MANAGER},  # after corrections
        (S.SUBMITTED, S.VALIDATED): {MODERATOR},
        (S.SUBMITTED, S.REFUSED): {MODERATOR},
        (S.VALIDATED, S.SUSPENDED): {MODERATOR},
        (S.SUSPENDED, S.VALIDATED): {MODERATOR},
    },
)

"""Who may move an object from one state to another: one table per kind of object.

The tables live next to their models (organisations.states, missions.states), keyed on the
models' `Status` enums; views, forms, templates, the API, the admin and beat tasks all ask
them (`allowed`, `targets`, `sources`) instead of testing statuses themselves, and tests check
them as tables.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

# The roles, one set for every table. SYSTEM is the portal itself (beat tasks, the effects
# of another change), never a person.
MANAGER, MODERATOR, SYSTEM, VOLUNTEER = "manager", "moderator", "system", "volunteer"


class TransitionNotAllowed(PermissionDenied):
    pass


@dataclass(frozen=True)
class Workflow:
    name: str
    transitions: dict  # {(from_state, to_state): {role, ...}}

    def allowed(self, current: str, target: str, role: str) -> bool:
        return role in self.transitions.get((current, target), set())

    def check(self, current: str, target: str, role: str) -> None:
        if not self.allowed(current, target, role):
            raise TransitionNotAllowed(f"{self.name}: {role} may not move {current} → {target}")

    def targets(self, current: str, role: str) -> list[str]:
        """Where `role` may move an object that is in `current`."""
        pairs = self.transitions.items()
        return [to for (frm, to), roles in pairs if frm == current and role in roles]

    def reachable(self, role: str) -> list[str]:
        """Every state `role` may move something to, from some state (a form's choices)."""
        pairs = self.transitions.items()
        return list(dict.fromkeys(to for (_frm, to), roles in pairs if role in roles))

    def sources(self, *targets: str, role: str) -> list[str]:
        """The states from which `role` may move to every one of `targets`: for instance what
        waits for a moderator's decision is what they may both validate and refuse."""
        states = dict.fromkeys(frm for frm, _to in self.transitions)
        return [s for s in states if all(self.allowed(s, t, role) for t in targets)]

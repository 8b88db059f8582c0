"""Who may move an object from one state to another: one table per kind of object.

The tables live next to their models (organisations.states, missions.states); views, the API,
the admin and beat tasks all ask them, and tests check them as tables.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


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
        pairs = self.transitions.items()
        return [to for (frm, to), roles in pairs if frm == current and role in roles]

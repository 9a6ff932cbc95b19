"""Work-item workflows: which status may follow which, per type, and which moves need a comment.

Plain data, so the UI can offer exactly the allowed transitions and the service can refuse the rest.
"""

from dataclasses import dataclass

OPEN, IN_PROGRESS, IN_REVIEW, BLOCKED, DONE, CANCELLED = (
    "open",
    "in_progress",
    "in_review",
    "blocked",
    "done",
    "cancelled",
)
STATUS_LABELS = {
    OPEN: "Open",
    IN_PROGRESS: "In progress",
    IN_REVIEW: "In review",
    BLOCKED: "Blocked",
    DONE: "Done",
    CANCELLED: "Cancelled",
}
CLOSED = frozenset({DONE, CANCELLED})
BOARD_COLUMNS = (OPEN, IN_PROGRESS, BLOCKED, IN_REVIEW, DONE)


@dataclass(frozen=True)
class Workflow:
    transitions: dict[str, tuple[str, ...]]
    needs_comment: frozenset[tuple[str, str]]  # (from, to); "*" as from matches any status

    def allowed(self, current: str) -> tuple[str, ...]:
        return self.transitions.get(current, ())

    def requires_comment(self, current: str, target: str) -> bool:
        return (current, target) in self.needs_comment or ("*", target) in self.needs_comment


_STANDARD = Workflow(
    transitions={
        OPEN: (IN_PROGRESS, CANCELLED),
        IN_PROGRESS: (IN_REVIEW, BLOCKED, OPEN, CANCELLED),
        BLOCKED: (IN_PROGRESS, CANCELLED),
        IN_REVIEW: (DONE, IN_PROGRESS, CANCELLED),
        DONE: (OPEN,),
        CANCELLED: (OPEN,),
    },
    needs_comment=frozenset(
        {("*", CANCELLED), ("*", BLOCKED), (DONE, OPEN), (CANCELLED, OPEN), (IN_REVIEW, IN_PROGRESS)}
    ),
)
# Incidents skip review: fixed is fixed, and every close says how.
_INCIDENT = Workflow(
    transitions={
        OPEN: (IN_PROGRESS, CANCELLED),
        IN_PROGRESS: (DONE, BLOCKED, CANCELLED),
        BLOCKED: (IN_PROGRESS, CANCELLED),
        DONE: (OPEN,),
        CANCELLED: (OPEN,),
    },
    needs_comment=frozenset({("*", CANCELLED), ("*", BLOCKED), ("*", DONE), (DONE, OPEN), (CANCELLED, OPEN)}),
)
# Promotion and data-access items follow their request: their decision moves them, not people.
_DECISION = Workflow(
    transitions={OPEN: (IN_REVIEW, CANCELLED), IN_REVIEW: (DONE, CANCELLED), DONE: (), CANCELLED: ()},
    needs_comment=frozenset({("*", CANCELLED)}),
)

WORKFLOWS = {
    "task": _STANDARD,
    "bug": _STANDARD,
    "retrain": _STANDARD,
    "verification": _STANDARD,
    "incident": _INCIDENT,
    "promotion": _DECISION,
    "data_access": _DECISION,
}
SYSTEM_DRIVEN_TYPES = frozenset({"promotion", "data_access"})

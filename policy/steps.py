"""The watchdog's steps on an open obligation: reminders, escalation, then the overdue notice.

RG-STEP-01: each step falls at a fraction of the obligation's clock (anchor to due), in elapsed time.
RG-STEP-02: a pass takes only the most advanced step now due; the earlier ones it missed are recorded as skipped,
so that a pass after a long gap sends one notice, not a backlog.
"""

from dataclasses import dataclass
from enum import StrEnum

from pendulum import DateTime


class StepKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    OVERDUE = "overdue"


STEP_LABELS: dict[StepKind, str] = {StepKind.REMINDER: "rappel", StepKind.ESCALATION: "escalade",
                                    StepKind.OVERDUE: "avis d'échéance dépassée"}


def step_label(name: str) -> str:
    """A step by its name (`reminder_50`, `escalation_90`, `overdue_100`) as a reader says it: « rappel à 50 % du
    délai »; a name that is no step is returned as given."""
    kind, _, percent = name.rpartition("_")
    if kind not in set(StepKind) or not percent.isdigit():
        return name
    if kind == StepKind.OVERDUE:
        return STEP_LABELS[StepKind.OVERDUE]
    return f"{STEP_LABELS[StepKind(kind)]} à {percent} % du délai"


@dataclass(frozen=True)
class StepPolicy:
    reminder_fractions: tuple[float, ...] = (0.5, 0.75)
    escalation_fraction: float = 0.9


@dataclass(frozen=True)
class Step:
    index: int
    kind: StepKind
    fraction: float
    at: DateTime

    @property
    def name(self) -> str:
        return f"{self.kind}_{round(self.fraction * 100)}"


def schedule(anchor: DateTime, due: DateTime, policy: StepPolicy) -> list[Step]:
    """Every step of an obligation's clock, in order; the last is the overdue notice at the deadline."""
    span = (due - anchor).total_seconds()
    fractions = [(StepKind.REMINDER, f) for f in sorted(policy.reminder_fractions)]
    fractions += [(StepKind.ESCALATION, policy.escalation_fraction), (StepKind.OVERDUE, 1.0)]
    return [Step(index, kind, fraction, anchor.add(seconds=span * fraction) if fraction < 1 else due)
            for index, (kind, fraction) in enumerate(fractions)]


@dataclass(frozen=True)
class StepDecision:
    take: Step | None
    skipped: tuple[Step, ...]
    next_action_at: DateTime | None
    steps_done: int


def decide_step(anchor: DateTime, due: DateTime, steps_done: int, now: DateTime, policy: StepPolicy) -> StepDecision:
    """What a pass at `now` does on an open obligation of which `steps_done` steps were already taken."""
    steps = schedule(anchor, due, policy)
    due_now = [step for step in steps[steps_done:] if step.at <= now]
    if not due_now:
        upcoming = steps[steps_done] if steps_done < len(steps) else None
        return StepDecision(None, (), upcoming.at if upcoming else None, steps_done)
    take = due_now[-1]
    done = take.index + 1
    following = steps[done] if done < len(steps) else None
    return StepDecision(take, tuple(due_now[:-1]), following.at if following else None, done)


def first_action_at(anchor: DateTime, due: DateTime, policy: StepPolicy) -> DateTime:
    return schedule(anchor, due, policy)[0].at

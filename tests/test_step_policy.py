"""The watchdog's schedule (RG-STEP-01) and its catch-up rule (RG-STEP-02), and the outbox's backoff, as pure rules."""

import pendulum

from policy.retry import RetryPolicy, backoff_seconds, should_escalate
from policy.steps import StepPolicy, decide_step, schedule

ANCHOR = pendulum.parse("2026-11-28T10:00:00+01:00")
DUE = ANCHOR.add(hours=48)


def test_steps_fall_at_their_fraction_of_the_clock():
    steps = schedule(ANCHOR, DUE, StepPolicy())
    assert [(s.name, s.at - ANCHOR) for s in steps] == [
        ("reminder_50", pendulum.duration(hours=24)),
        ("reminder_75", pendulum.duration(hours=36)),
        ("escalation_90", pendulum.duration(hours=43, minutes=12)),
        ("overdue_100", pendulum.duration(hours=48)),
    ]


def test_nothing_is_due_before_the_first_step():
    decision = decide_step(ANCHOR, DUE, 0, ANCHOR.add(hours=24).subtract(seconds=1), StepPolicy())
    assert decision.take is None
    assert decision.next_action_at == ANCHOR.add(hours=24)


def test_a_step_is_due_at_its_exact_instant_and_points_to_the_next():
    decision = decide_step(ANCHOR, DUE, 0, ANCHOR.add(hours=24), StepPolicy())
    assert decision.take is not None and decision.take.name == "reminder_50"
    assert decision.skipped == ()
    assert (decision.steps_done, decision.next_action_at) == (1, ANCHOR.add(hours=36))


def test_after_a_long_gap_only_the_most_advanced_step_is_taken_and_the_rest_skipped():
    decision = decide_step(ANCHOR, DUE, 1, ANCHOR.add(days=5), StepPolicy())
    assert decision.take is not None and decision.take.name == "overdue_100"
    assert [s.name for s in decision.skipped] == ["reminder_75", "escalation_90"]
    assert (decision.steps_done, decision.next_action_at) == (4, None)


def test_fractions_come_from_the_policy():
    steps = schedule(ANCHOR, DUE, StepPolicy(reminder_fractions=(0.25,), escalation_fraction=0.8))
    assert [s.name for s in steps] == ["reminder_25", "escalation_80", "overdue_100"]
    assert steps[1].at == ANCHOR.add(minutes=round(48 * 60 * 0.8))


def test_backoff_doubles_up_to_its_cap_and_escalates_after_the_configured_attempts():
    policy = RetryPolicy(base_seconds=60, cap_seconds=600, escalate_after_attempts=3)
    assert [backoff_seconds(n, policy) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
    assert [should_escalate(n, policy) for n in (2, 3)] == [False, True]

"""Delivery retries: exponential backoff with a cap, and when a failing message must be escalated."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: int = 60
    cap_seconds: int = 3600
    escalate_after_attempts: int = 5


def backoff_seconds(attempts: int, policy: RetryPolicy) -> int:
    """Wait before the next attempt after `attempts` failed ones: base, 2×base, 4×base… up to the cap."""
    return int(min(policy.cap_seconds, policy.base_seconds * 2 ** max(0, attempts - 1)))


def should_escalate(attempts: int, policy: RetryPolicy) -> bool:
    return attempts >= policy.escalate_after_attempts

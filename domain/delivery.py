"""Retrying deliveries to outside systems (SMS gateways now, webhooks later): how long to
wait after a failed attempt, and when to give up. Pure."""

from datetime import timedelta

MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min, …
    doubling, never more than an hour."""
    if attempts < 1:
        raise ValueError("attempts counts failures: at least 1")
    return min(FIRST_DELAY * 2 ** (attempts - 1), LONGEST_DELAY)


def gives_up(attempts: int) -> bool:
    """After this many failures the message is set aside as failed (kept, never deleted)."""
    return attempts >= MAX_ATTEMPTS

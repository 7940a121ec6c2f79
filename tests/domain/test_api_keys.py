"""R-API-1 key rules, pure: the secret's shape and digest, what may be granted, expiry,
overlap and state."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.api_keys import (
    LONGEST_LIFETIME,
    LONGEST_OVERLAP,
    NOT_FOR_KEYS,
    KeyState,
    check_expiry,
    check_overlap,
    digest,
    grantable_operations,
    looks_like_key,
    new_secret,
    state,
)
from domain.errors import Invalid

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_new_secret_is_random_shaped_and_digested() -> None:
    first, second = new_secret(), new_secret()
    assert first.raw != second.raw and first.prefix != second.prefix
    assert first.raw.startswith(f"gk_{first.prefix}_") and looks_like_key(first.raw)
    assert first.digest == digest(first.raw) and len(first.digest) == 32
    assert first.raw.encode() not in first.digest


@pytest.mark.parametrize(
    "raw", ["", "gk_", "gk_1234567_" + "x" * 40, "xx_12345678_" + "x" * 40, "gk_12345678_short"]
)
def test_malformed_keys_are_recognised_without_a_lookup(raw: str) -> None:
    assert not looks_like_key(raw)


def test_the_issuer_grants_only_what_they_hold() -> None:
    held = frozenset({"event:read", "event:report"})
    assert grantable_operations(
        ["event:report", "event:read", "event:read"], held, superuser=False
    ) == [
        "event:read",
        "event:report",
    ]
    with pytest.raises(Invalid) as caught:
        grantable_operations(["event:read", "event:handle"], held, superuser=False)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("operations", "operation_not_grantable")
    ]
    assert grantable_operations(["event:handle"], held, superuser=True) == ["event:handle"]


@pytest.mark.parametrize("operation", sorted(NOT_FOR_KEYS))
def test_person_bound_and_administrative_operations_are_never_granted(operation: str) -> None:
    with pytest.raises(Invalid):
        grantable_operations([operation], frozenset({operation}), superuser=True)


def test_expiry_and_overlap_bounds() -> None:
    check_expiry(NOW + LONGEST_LIFETIME, NOW)
    for wrong in (NOW, NOW + LONGEST_LIFETIME + timedelta(seconds=1)):
        with pytest.raises(Invalid):
            check_expiry(wrong, NOW)
    check_overlap(timedelta(0))
    check_overlap(LONGEST_OVERLAP)
    for wrong_overlap in (timedelta(seconds=-1), LONGEST_OVERLAP + timedelta(seconds=1)):
        with pytest.raises(Invalid):
            check_overlap(wrong_overlap)


def test_state_revoked_wins_over_expired() -> None:
    later = NOW + timedelta(days=1)
    assert state(expires_at=later, revoked_at=None, now=NOW) is KeyState.ACTIVE
    assert state(expires_at=NOW, revoked_at=None, now=NOW) is KeyState.EXPIRED
    assert state(expires_at=NOW, revoked_at=NOW, now=NOW) is KeyState.REVOKED

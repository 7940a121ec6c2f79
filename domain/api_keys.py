"""API keys of third-party agencies (R-API-1): the secret's shape, what a key may be granted,
its life (expiry, revocation, rotation overlap). Pure.

A raw key is `gk_<prefix>_<secret>`: the prefix (8 hex digits) is shown in lists so people
can tell keys apart; the secret carries 256 random bits. Only a SHA-256 digest of the whole
raw key is stored: with that much entropy a slow password hash would add nothing but latency
on every call, and the digest is looked up directly by a unique index.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import FieldError, Invalid
from domain.permissions import Perm

SCHEME = "gk"
PREFIX_HEX_DIGITS = 8
# Agencies call at most this often per minute; a key states its own limit below it.
MAX_RATE_PER_MINUTE = 6000
LONGEST_LIFETIME = timedelta(days=731)
# How long a rotated-out secret keeps working, so the agency can redeploy without an outage.
DEFAULT_OVERLAP = timedelta(hours=24)
LONGEST_OVERLAP = timedelta(days=7)

# Operations bound to a person or that administer the platform: never granted to a key (a key
# that could issue keys or users would outlive any revocation of its holder).
NOT_FOR_KEYS = frozenset(
    {
        Perm.SELF_READ,
        Perm.NOTIFICATION_READ,
        Perm.POSITION_REPORT,
        Perm.PII_REVEAL,
        Perm.USER_WRITE,
        Perm.ORG_WRITE,
        Perm.DEPARTMENT_WRITE,
        Perm.SETTING_WRITE,
        Perm.API_KEY_MANAGE,
    }
)


class KeyState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class NewSecret:
    """A freshly drawn key: the raw value is handed out once, the rest is stored."""

    raw: str
    prefix: str
    digest: bytes


def digest(raw: str) -> bytes:
    """What is stored and looked up for a raw key."""
    return hashlib.sha256(raw.encode()).digest()


def new_secret() -> NewSecret:
    prefix = secrets.token_hex(PREFIX_HEX_DIGITS // 2)
    raw = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewSecret(raw=raw, prefix=prefix, digest=digest(raw))


def looks_like_key(raw: str) -> bool:
    """Cheap shape check before touching the database."""
    parts = raw.split("_", 2)
    return (
        len(parts) == 3
        and parts[0] == SCHEME
        and len(parts[1]) == PREFIX_HEX_DIGITS
        and 20 <= len(parts[2]) <= 100
    )


def grantable_operations(
    requested: Iterable[str], held: frozenset[str], *, superuser: bool
) -> list[str]:
    """The operations a key is issued with: known permissions, none of `NOT_FOR_KEYS`, and
    only ones the issuer holds (nobody hands out more than they have). Sorted, deduplicated."""
    known = {p.value for p in Perm}
    errors = []
    wanted = sorted(set(requested))
    for op in wanted:
        if op not in known:
            errors.append(FieldError("operations", "operation_unknown", {"operation": op}))
        elif op in NOT_FOR_KEYS or not (superuser or op in held):
            errors.append(FieldError("operations", "operation_not_grantable", {"operation": op}))
    if not wanted:
        errors.append(FieldError("operations", "operations_required"))
    if errors:
        raise Invalid("api_key_invalid", errors=errors)
    return wanted


def check_expiry(expires_at: datetime, now: datetime) -> None:
    """A key expires in the future, within about two years (then it is issued anew)."""
    if expires_at <= now:
        raise Invalid("api_key_invalid", errors=[FieldError("expires_at", "expiry_in_past")])
    if expires_at > now + LONGEST_LIFETIME:
        raise Invalid("api_key_invalid", errors=[FieldError("expires_at", "expiry_too_far")])


def check_overlap(overlap: timedelta) -> None:
    if overlap < timedelta(0) or overlap > LONGEST_OVERLAP:
        raise Invalid("api_key_invalid", errors=[FieldError("overlap_minutes", "overlap_invalid")])


def state(*, expires_at: datetime, revoked_at: datetime | None, now: datetime) -> KeyState:
    if revoked_at is not None:
        return KeyState.REVOKED
    if expires_at <= now:
        return KeyState.EXPIRED
    return KeyState.ACTIVE

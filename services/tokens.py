"""Short-lived JWT access tokens; refresh tokens are opaque and live in the database."""

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jwt

from domain.errors import Unauthenticated
from services.settings import get_settings

ALGORITHM = "HS256"
# PyJWT would compare exp/iat/nbf with the wall clock; the application's clock is injected,
# so PyJWT's time checks are off and the claims are compared with `now` here.
_IAT_LEEWAY_SECONDS = 60


def issue_access_token(user_id: uuid.UUID, now: datetime) -> tuple[str, int]:
    """The token and its lifetime in seconds."""
    settings = get_settings()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


@lru_cache(maxsize=8192)
def _signed_claims(token: str, secret: str) -> Mapping[str, Any]:
    """The claims of a token whose signature checks out; raises otherwise. Cached because a
    client presents the same token on every request of its lifetime and the signature check
    and JSON parse cost more than the rest of authentication; failures are never cached and
    the time claims are checked on every use by the callers."""
    return MappingProxyType(
        jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # Time claims are checked against the injected clock, never the wall clock.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    )


_REQUIRED_CLAIMS = ("sub", "exp", "iat", "typ")


def read_access_token(token: str, now: datetime) -> uuid.UUID:
    """The user id in a valid, unexpired access token; anything else is 401."""
    try:
        claims = _signed_claims(token, get_settings().secret_key)
        if (
            any(name not in claims for name in _REQUIRED_CLAIMS)
            or claims["typ"] != "access"
            or int(claims["exp"]) <= now.timestamp()
            or int(claims["iat"]) > now.timestamp() + _IAT_LEEWAY_SECONDS
            # Not valid before: no token of ours sets it, but one that does is held to it.
            or int(claims.get("nbf", 0)) > now.timestamp() + _IAT_LEEWAY_SECONDS
        ):
            raise Unauthenticated("token_invalid")
        return uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated("token_invalid") from exc


def unverified_subject(token: str) -> str | None:
    """The subject of a correctly signed token, expired or not (idempotency key owner)."""
    try:
        claims = _signed_claims(token, get_settings().secret_key)
    except jwt.PyJWTError:
        return None
    return str(claims.get("sub")) if claims.get("sub") else None


def new_refresh_token() -> tuple[str, bytes]:
    """A random token for the client and the digest we store."""
    token = secrets.token_urlsafe(32)
    return token, refresh_digest(token)


def refresh_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()

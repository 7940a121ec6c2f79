"""Sign-in, refresh-token rotation with reuse detection, and loading the principal."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Unauthenticated
from domain.principal import SYSTEM_SCOPE, Principal
from services import lockout, reference_data
from services.db import SCOPE_SETTING, USER_SETTING, set_scope
from services.models import RefreshToken, User
from services.passwords import verify_password
from services.prepared import Prepared
from services.settings import get_settings
from services.tokens import issue_access_token, new_refresh_token, refresh_digest


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str


async def login(
    session: AsyncSession, redis: Redis, username: str, password: str, now: datetime
) -> TokenPair:
    """Tokens for correct credentials. Every failure — unknown user, wrong password, disabled
    user, locked account — is the same generic 401, so nothing is revealed."""
    if await lockout.is_locked(redis, username, now):
        raise Unauthenticated("invalid_credentials")
    await set_scope(session, SYSTEM_SCOPE)
    user = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    password_ok = verify_password(password, user.password_hash if user else None)
    if user is None or not password_ok or not user.is_active:
        await lockout.register_failure(redis, username, now)
        raise Unauthenticated("invalid_credentials")
    await lockout.clear(redis, username)
    return await _issue(session, user.id, uuid.uuid4(), now)


async def refresh(session: AsyncSession, token: str, now: datetime) -> TokenPair:
    """Rotate: the presented token is spent and a new one of the same family issued. A spent
    token presented again means it leaked: the whole family is revoked."""
    await set_scope(session, SYSTEM_SCOPE)
    digest = refresh_digest(token)
    spent = (
        await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == digest,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(RefreshToken.user_id, RefreshToken.family_id)
        )
    ).one_or_none()
    if spent is None:
        known = (
            await session.execute(select(RefreshToken).where(RefreshToken.token_hash == digest))
        ).scalar_one_or_none()
        if known is not None and known.used_at is not None:
            await _revoke_family(session, known.family_id, now)
            raise Unauthenticated("refresh_token_reused", keep_changes=True)
        raise Unauthenticated("token_invalid")
    user = await session.get(User, spent.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("token_invalid")
    return await _issue(session, spent.user_id, spent.family_id, now)


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def _issue(
    session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID, now: datetime
) -> TokenPair:
    access, expires_in = issue_access_token(user_id, now)
    token, digest = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id,
            token_hash=digest,
            issued_at=now,
            expires_at=now + timedelta(days=get_settings().refresh_token_days),
        )
    )
    await session.flush()
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=token)


# The user (migration 0028), the session's row-level-security scope narrowed to their
# jurisdiction and the acting user named (notifications' policy), and the stamps of the
# reference tables the process holds (`services.reference_data`), in one round trip: this
# runs before every authenticated request, so it is compiled once.
_PRINCIPAL = Prepared(
    text(
        "SELECT p.*, set_config(:scope_setting, CASE WHEN p.is_superuser THEN :system"
        " ELSE coalesce(p.path, '') END, true) AS scope,"
        " set_config(:user_setting, p.id::text, true) AS acting,"
        " (SELECT json_object_agg(name, stamp) FROM reference_stamps) AS reference_stamps"
        " FROM principal_of(:user_id) AS p"
    )
)


async def load_principal(session: AsyncSession, user_id: uuid.UUID) -> Principal:
    """The active user behind a token with roles and permissions, with the session's
    row-level-security scope narrowed to that user's jurisdiction, the user named and the
    reference tables' stamps kept."""
    row = await _PRINCIPAL.row(
        session,
        {
            "scope_setting": SCOPE_SETTING,
            "user_setting": USER_SETTING,
            "system": SYSTEM_SCOPE,
            "user_id": user_id,
        },
    )
    if row is None:
        raise Unauthenticated("token_invalid")
    reference_data.remember(session, row["reference_stamps"])
    return Principal(
        user_id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        unit_id=row["unit_id"],
        department_id=row["department_id"],
        scope=row["scope"],
        roles=tuple(row["roles"]),
        permissions=frozenset(row["permissions"]),
        is_superuser=row["is_superuser"],
    )

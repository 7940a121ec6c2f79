"""API keys of third-party agencies (R-API-1): issued by administrators for a unit's subtree
with a set of operations, a rate limit and an expiry; stored as digests; revocable; rotated
with an overlap during which the old secret still works. A key that authenticates becomes a
`Principal` scoped like a user of its unit, so every route's permission gate, jurisdiction
filter, row-level security and masking apply to it unchanged.

Rotation: the new secret is valid at once; the old one keeps working for `overlap` (24 h by
default, 0 to 7 days), so an agency can roll it out without an outage, and then fails as
unknown. A second rotation inside an overlap never lengthens an older secret's life."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.api_keys import (
    DEFAULT_OVERLAP,
    KeyState,
    NewSecret,
    check_expiry,
    check_overlap,
    digest,
    grantable_operations,
    looks_like_key,
    new_secret,
    state,
)
from domain.errors import Conflict, NotFound, Unauthenticated
from domain.principal import SYSTEM_SCOPE, Principal
from domain.versioning import check_version
from services import audit, throttle
from services.context import Ctx
from services.db import set_scope
from services.jurisdiction import in_scope
from services.models import ApiKey, ApiKeySecret
from services.pagination import AnySelect, Page, paginate
from services.registry import unit_for_record

RATE_WINDOW_SECONDS = 60

_current_prefix = (
    select(ApiKeySecret.prefix)
    .where(ApiKeySecret.api_key_id == ApiKey.id, ApiKeySecret.retires_at.is_(None))
    .correlate(ApiKey)
    .scalar_subquery()
)
COLUMNS = (
    ApiKey.id,
    ApiKey.unit_id,
    ApiKey.agency,
    ApiKey.note,
    ApiKey.operations,
    ApiKey.rate_limit_per_minute,
    ApiKey.expires_at,
    ApiKey.revoked_at,
    ApiKey.revoke_reason,
    ApiKey.version,
    ApiKey.created_at,
    ApiKey.updated_at,
    ApiKey.created_by,
    _current_prefix.label("prefix"),
)
# What a key says; audited before and after each change.
_FIELDS = ("unit_id", "agency", "note", "operations", "rate_limit_per_minute", "expires_at")


@dataclass(frozen=True)
class KeyFilter:
    unit_id: uuid.UUID | None = None
    state: KeyState | None = None
    q: str | None = None


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, str | int | list) or value is None else str(value)
        for key, value in values.items()
        if key in _FIELDS
    }


def _shown(ctx: Ctx, row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["state"] = state(
        expires_at=data["expires_at"], revoked_at=data["revoked_at"], now=ctx.now()
    )
    return data


def _checked(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """Operations the issuer may hand out, and an expiry in range."""
    principal = ctx.principal
    operations = grantable_operations(
        values["operations"], principal.permissions, superuser=principal.is_superuser
    )
    check_expiry(values["expires_at"], ctx.now())
    return {**values, "operations": operations}


async def issue_key(ctx: Ctx, fields: dict[str, Any]) -> dict[str, Any]:
    """A new key for an agency at a unit in the caller's jurisdiction. The answer carries the
    raw secret, the only time it is ever shown. Audited (without the secret)."""
    values = _checked(ctx, fields)
    unit = await unit_for_record(ctx, values["unit_id"])
    now = ctx.now()
    key = ApiKey(
        **{name: values.get(name) for name in _FIELDS},
        path=unit.path,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(key)
    await ctx.session.flush()
    secret = await _add_secret(ctx, key)
    await audit.record(
        ctx,
        action="api_key.issue",
        target_type="api_key",
        target_id=key.id,
        unit_path=key.path,
        after={**_snapshot(values), "prefix": secret.prefix},
    )
    return {**await get_key(ctx, key.id), "secret": secret.raw}


async def _add_secret(ctx: Ctx, key: ApiKey) -> NewSecret:
    secret = new_secret()
    ctx.session.add(
        ApiKeySecret(
            api_key_id=key.id,
            path=key.path,
            prefix=secret.prefix,
            digest=secret.digest,
            created_at=ctx.now(),
        )
    )
    await ctx.session.flush()
    return secret


def _managed(ctx: Ctx) -> ColumnElement[bool]:
    return in_scope(ApiKey.path, ctx.principal)


async def get_key(ctx: Ctx, key_id: uuid.UUID) -> dict[str, Any]:
    """A key of the caller's jurisdiction (never its secret); 404 otherwise."""
    row = (
        await ctx.session.execute(select(*COLUMNS).where(ApiKey.id == key_id, _managed(ctx)))
    ).one_or_none()
    if row is None:
        raise NotFound("api_key_not_found")
    return _shown(ctx, row)


def _state_is(wanted: KeyState, ctx: Ctx) -> ColumnElement[bool]:
    now = ctx.now()
    if wanted is KeyState.REVOKED:
        return ApiKey.revoked_at.is_not(None)
    if wanted is KeyState.EXPIRED:
        return and_(ApiKey.revoked_at.is_(None), ApiKey.expires_at <= now)
    return and_(ApiKey.revoked_at.is_(None), ApiKey.expires_at > now)


def keys_query(ctx: Ctx, flt: KeyFilter) -> AnySelect:
    stmt = select(*COLUMNS).where(_managed(ctx))
    if flt.unit_id is not None:
        stmt = stmt.where(ApiKey.unit_id == flt.unit_id)
    if flt.state is not None:
        stmt = stmt.where(_state_is(flt.state, ctx))
    if flt.q:
        stmt = stmt.where(
            or_(ApiKey.agency.icontains(flt.q, autoescape=True), _current_prefix == flt.q)
        )
    return stmt


async def list_keys(
    ctx: Ctx, flt: KeyFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """Keys of the caller's jurisdiction by agency name."""
    return await paginate(
        ctx.session,
        keys_query(ctx, flt),
        key=(ApiKey.agency, ApiKey.id),
        limit=limit,
        cursor=cursor,
        convert=lambda row: _shown(ctx, row),
    )


async def managed_key(ctx: Ctx, key_id: uuid.UUID, *, lock: bool = False) -> ApiKey:
    """The key row, inside the caller's jurisdiction (404 otherwise), row-locked on demand."""
    stmt = select(ApiKey).where(ApiKey.id == key_id, _managed(ctx))
    key = (await ctx.session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if key is None:
        raise NotFound("api_key_not_found")
    return key


async def _lock(ctx: Ctx, key_id: uuid.UUID, expected_version: int | None) -> ApiKey:
    key = await managed_key(ctx, key_id, lock=True)
    check_version(expected_version, key.version)
    return key


def require_active(ctx: Ctx, key: ApiKey) -> None:
    """Only an active key is rotated or given new subscriptions (409 otherwise)."""
    if (
        state(expires_at=key.expires_at, revoked_at=key.revoked_at, now=ctx.now())
        != KeyState.ACTIVE
    ):
        raise Conflict("api_key_inactive")


async def update_key(
    ctx: Ctx, key_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change a key's agency, note, operations, rate limit or expiry (an expired key may be
    extended; a revoked one stays revoked). Audited with before and after."""
    key = await _lock(ctx, key_id, expected_version)
    if key.revoked_at is not None:
        raise Conflict("api_key_inactive")
    before = _snapshot({name: getattr(key, name) for name in _FIELDS})
    values = _checked(ctx, {**{name: getattr(key, name) for name in _FIELDS}, **changes})
    for name in _FIELDS:
        setattr(key, name, values[name])
    key.version += 1
    key.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="api_key.update",
        target_type="api_key",
        target_id=key.id,
        unit_path=key.path,
        before=before,
        after=_snapshot(values),
    )
    return await get_key(ctx, key.id)


async def rotate_key(
    ctx: Ctx,
    key_id: uuid.UUID,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    expected_version: int | None,
) -> dict[str, Any]:
    """A new secret for an active key (shown once); the secrets in use so far stop working
    after `overlap` (at once for zero). Audited."""
    check_overlap(overlap)
    key = await _lock(ctx, key_id, expected_version)
    require_active(ctx, key)
    now = ctx.now()
    await ctx.session.execute(
        update(ApiKeySecret)
        .where(
            ApiKeySecret.api_key_id == key.id,
            or_(ApiKeySecret.retires_at.is_(None), ApiKeySecret.retires_at > now),
        )
        .values(
            retires_at=func.least(
                func.coalesce(ApiKeySecret.retires_at, now + overlap), now + overlap
            )
        )
    )
    secret = await _add_secret(ctx, key)
    key.version += 1
    key.updated_at = now
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="api_key.rotate",
        target_type="api_key",
        target_id=key.id,
        unit_path=key.path,
        after={"prefix": secret.prefix, "old_secrets_retire_at": (now + overlap).isoformat()},
    )
    return {**await get_key(ctx, key.id), "secret": secret.raw}


async def revoke_key(
    ctx: Ctx, key_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """Revoke a key for good: every secret of it fails from now on. Audited with the reason."""
    key = await _lock(ctx, key_id, expected_version)
    if key.revoked_at is not None:
        raise Conflict("api_key_revoked")
    key.revoked_at, key.revoked_by, key.revoke_reason = ctx.now(), ctx.principal.user_id, reason
    key.version += 1
    key.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="api_key.revoke",
        target_type="api_key",
        target_id=key.id,
        unit_path=key.path,
        reason=reason,
    )
    return await get_key(ctx, key.id)


def principal_of(key: ApiKey, prefix: str) -> Principal:
    """The key acting: its unit's jurisdiction and exactly its operations."""
    return Principal(
        user_id=None,
        username=f"gk_{prefix}",
        full_name=key.agency,
        unit_id=key.unit_id,
        department_id=None,
        scope=key.path,
        roles=(),
        permissions=frozenset(key.operations),
        api_key_id=key.id,
    )


async def authenticate(session: AsyncSession, redis: Redis, raw: str, now: datetime) -> Principal:
    """The principal of a raw key, counted against the key's rate limit (shared by every
    process through Redis; over it, 429 with Retry-After). Unknown or rotated-out secrets are
    401 `api_key_invalid`; revoked and expired keys say so. The session's row-level-security
    scope is narrowed to the key's jurisdiction, as for a signed-in user."""
    if not looks_like_key(raw):
        raise Unauthenticated("api_key_invalid")
    await set_scope(session, SYSTEM_SCOPE)
    row = (
        await session.execute(
            select(ApiKey, ApiKeySecret.prefix, ApiKeySecret.retires_at)
            .join(ApiKeySecret, ApiKeySecret.api_key_id == ApiKey.id)
            .where(ApiKeySecret.digest == digest(raw))
        )
    ).one_or_none()
    if row is None or (row.retires_at is not None and row.retires_at <= now):
        raise Unauthenticated("api_key_invalid")
    key: ApiKey = row.ApiKey
    match state(expires_at=key.expires_at, revoked_at=key.revoked_at, now=now):
        case KeyState.REVOKED:
            raise Unauthenticated("api_key_revoked")
        case KeyState.EXPIRED:
            raise Unauthenticated("api_key_expired")
    await throttle.hit(
        redis,
        name="api_key",
        subject=str(key.id),
        limit=key.rate_limit_per_minute,
        window_seconds=RATE_WINDOW_SECONDS,
        now=now,
    )
    await set_scope(session, key.path)
    return principal_of(key, row.prefix)


async def record_call(ctx: Ctx, *, method: str, path: str, status: int) -> None:
    """The audit entry of one call made with a key (R-API-1 "every use audited"): who (the
    key, as actor), what (method, path — never the query, which may hold personal data) and
    how it ended."""
    principal = ctx.principal
    await set_scope(ctx.session, principal.scope)
    await audit.record(
        ctx,
        action="api_key.call",
        target_type="api_key",
        target_id=principal.api_key_id,
        unit_path=principal.scope,
        after={"method": method, "path": path, "status": status},
    )

"""Agencies' API keys (R-API-1), issued and managed by administrators for their subtree."""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from api.deps import Paging, requires
from api.etag import expected_version
from api.registry_routes import shown
from api.schemas.api_keys import (
    ApiKeyCreate,
    ApiKeyOut,
    ApiKeyUpdate,
    ApiKeyWithSecret,
    RevokeIn,
    RotateIn,
)
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from domain.api_keys import KeyState
from domain.permissions import Perm
from services import api_keys
from services.api_keys import KeyFilter
from services.context import Ctx

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"], responses=PROBLEM_RESPONSES)

Manager = Annotated[Ctx, requires(Perm.API_KEY_MANAGE)]
IfMatch = Annotated[str | None, Header()]


def _filter(
    unit_id: uuid.UUID | None = None,
    state: KeyState | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> KeyFilter:
    return KeyFilter(unit_id=unit_id, state=state, q=q)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyWithSecret)
async def issue_key(body: ApiKeyCreate, response: Response, ctx: Manager) -> ApiKeyWithSecret:
    """Issue a key to an agency for a unit's subtree with the operations it may perform (each
    one the issuer holds). The raw key is in this answer only; it is stored as a digest."""
    data = await api_keys.issue_key(ctx, body.model_dump())
    return shown(response, ApiKeyWithSecret, data, f"/api/v1/api-keys/{data['id']}")


@router.get("", response_model=PageOut[ApiKeyOut])
async def list_keys(
    ctx: Manager, page: Paging, flt: Annotated[KeyFilter, Depends(_filter)]
) -> PageOut[ApiKeyOut]:
    """Keys of the caller's jurisdiction; filter by unit, state or agency name / prefix."""
    result = await api_keys.list_keys(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[ApiKeyOut].model_validate(result, from_attributes=True)


@router.get("/{key_id}", response_model=ApiKeyOut)
async def get_key(key_id: uuid.UUID, response: Response, ctx: Manager) -> ApiKeyOut:
    return shown(response, ApiKeyOut, await api_keys.get_key(ctx, key_id))


@router.patch("/{key_id}", response_model=ApiKeyOut)
async def update_key(
    key_id: uuid.UUID,
    body: ApiKeyUpdate,
    response: Response,
    ctx: Manager,
    if_match: IfMatch = None,
) -> ApiKeyOut:
    """Change the agency name, note, operations, rate limit or expiry of a key."""
    data = await api_keys.update_key(
        ctx,
        key_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return shown(response, ApiKeyOut, data)


@router.post("/{key_id}/rotate", response_model=ApiKeyWithSecret)
async def rotate_key(
    key_id: uuid.UUID,
    body: RotateIn,
    response: Response,
    ctx: Manager,
    if_match: IfMatch = None,
) -> ApiKeyWithSecret:
    """A new secret (in this answer only); the old one keeps working for `overlap_minutes`."""
    data = await api_keys.rotate_key(
        ctx,
        key_id,
        overlap=timedelta(minutes=body.overlap_minutes),
        expected_version=expected_version(if_match),
    )
    return shown(response, ApiKeyWithSecret, data)


@router.post("/{key_id}/revoke", response_model=ApiKeyOut)
async def revoke_key(
    key_id: uuid.UUID,
    body: RevokeIn,
    response: Response,
    ctx: Manager,
    if_match: IfMatch = None,
) -> ApiKeyOut:
    """Revoke a key for good, with the reason."""
    data = await api_keys.revoke_key(
        ctx, key_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return shown(response, ApiKeyOut, data)

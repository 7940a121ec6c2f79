"""Webhook subscriptions of API keys and their delivery log (R-API-3), managed by the keys'
administrators."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from api.deps import Paging, requires
from api.etag import expected_version
from api.registry_routes import shown
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.webhooks import (
    AttemptOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from domain.permissions import Perm
from services import webhooks
from services.context import Ctx

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)

Manager = Annotated[Ctx, requires(Perm.API_KEY_MANAGE)]
BY_KEY = "/api/v1/api-keys/{key_id}/webhooks"
ONE = "/api/v1/webhooks/{subscription_id}"


@router.post(BY_KEY, status_code=status.HTTP_201_CREATED, response_model=WebhookWithSecret)
async def create_webhook(
    key_id: uuid.UUID, body: WebhookCreate, response: Response, ctx: Manager
) -> WebhookWithSecret:
    """Push the key's event changes (those it may read, from now on) to a public URL, signed
    with the secret in this answer."""
    data = await webhooks.create_subscription(ctx, key_id, body.model_dump(mode="json"))
    return shown(response, WebhookWithSecret, data, f"/api/v1/webhooks/{data['id']}")


@router.get(BY_KEY, response_model=PageOut[WebhookOut])
async def list_webhooks(key_id: uuid.UUID, ctx: Manager, page: Paging) -> PageOut[WebhookOut]:
    result = await webhooks.list_subscriptions(ctx, key_id, limit=page.limit, cursor=page.cursor)
    return PageOut[WebhookOut].model_validate(result, from_attributes=True)


@router.get(ONE, response_model=WebhookOut)
async def get_webhook(subscription_id: uuid.UUID, response: Response, ctx: Manager) -> WebhookOut:
    return shown(response, WebhookOut, await webhooks.get_subscription(ctx, subscription_id))


@router.patch(ONE, response_model=WebhookOut)
async def update_webhook(
    subscription_id: uuid.UUID,
    body: WebhookUpdate,
    response: Response,
    ctx: Manager,
    if_match: Annotated[str | None, Header()] = None,
) -> WebhookOut:
    """Change the URL or filters, or pause (`enabled: false`) and resume."""
    data = await webhooks.update_subscription(
        ctx,
        subscription_id,
        body.model_dump(mode="json", exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return shown(response, WebhookOut, data)


@router.get(f"{ONE}/attempts", response_model=PageOut[AttemptOut])
async def list_attempts(
    subscription_id: uuid.UUID, ctx: Manager, page: Paging, ok: bool | None = None
) -> PageOut[AttemptOut]:
    """The delivery log, newest first: each try with its status, error and duration."""
    result = await webhooks.list_attempts(
        ctx, subscription_id, ok=ok, limit=page.limit, cursor=page.cursor
    )
    return PageOut[AttemptOut].model_validate(result, from_attributes=True)

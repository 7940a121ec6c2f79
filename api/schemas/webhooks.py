"""Webhook subscriptions and their delivery log over the wire (R-API-3)."""

import uuid

from pydantic import Field

from api.schemas.common import Input, Instant, Output
from domain.events import Category


class WebhookCreate(Input):
    url: str = Field(min_length=1, max_length=2000, description="http(s) receiver, public.")
    actions: list[str] | None = Field(
        default=None, max_length=32, description="Workflow actions to receive; all if absent."
    )
    categories: list[Category] | None = Field(
        default=None, max_length=8, description="Event categories to receive; all if absent."
    )


class WebhookUpdate(Input):
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    actions: list[str] | None = Field(default=None, max_length=32)
    categories: list[Category] | None = Field(default=None, max_length=8)
    enabled: bool | None = None


class WebhookOut(Output):
    id: uuid.UUID
    api_key_id: uuid.UUID
    url: str
    actions: list[str] | None
    categories: list[str] | None
    enabled: bool
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="Signs every delivery (X-Grid-Signature); shown this once.")


class AttemptOut(Output):
    id: int
    delivery_id: uuid.UUID
    event_id: uuid.UUID | None
    action: str | None
    attempt: int
    at: Instant
    status_code: int | None
    ok: bool
    error: str | None
    duration_ms: int

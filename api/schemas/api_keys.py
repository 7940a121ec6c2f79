"""API keys over the wire (R-API-1)."""

import uuid

from pydantic import AwareDatetime, Field, field_validator

from api.schemas.common import Input, Instant, Output
from domain.api_keys import DEFAULT_OVERLAP, LONGEST_OVERLAP, MAX_RATE_PER_MINUTE, KeyState
from domain.patches import refuse_null


class ApiKeyCreate(Input):
    unit_id: uuid.UUID = Field(description="The key's jurisdiction: this unit and below.")
    agency: str = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)
    operations: list[str] = Field(max_length=64, description="Permission codes the key holds.")
    rate_limit_per_minute: int = Field(default=60, ge=1, le=MAX_RATE_PER_MINUTE)
    expires_at: AwareDatetime


class ApiKeyUpdate(Input):
    agency: str | None = Field(default=None, min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)
    operations: list[str] | None = Field(default=None, max_length=64)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=MAX_RATE_PER_MINUTE)
    expires_at: AwareDatetime | None = None

    # `note` is the one field null clears.
    _required = field_validator("agency", "operations", "rate_limit_per_minute", "expires_at")(
        refuse_null
    )


class RotateIn(Input):
    overlap_minutes: int = Field(
        default=int(DEFAULT_OVERLAP.total_seconds() // 60),
        ge=0,
        le=int(LONGEST_OVERLAP.total_seconds() // 60),
        description="How long the secrets in use so far keep working (0: stop at once).",
    )


class RevokeIn(Input):
    reason: str = Field(min_length=1, max_length=500)


class ApiKeyOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID
    agency: str
    note: str | None
    operations: list[str]
    rate_limit_per_minute: int
    expires_at: Instant
    state: KeyState
    prefix: str | None = Field(description="The visible start of the current secret.")
    revoked_at: Instant | None
    revoke_reason: str | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


class ApiKeyWithSecret(ApiKeyOut):
    secret: str = Field(description="The raw key, shown this once; send it as X-API-Key.")

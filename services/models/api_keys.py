"""Agencies' API keys and their secrets (R-API-1), webhook subscriptions and the log of
delivery attempts (R-API-3)."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class ApiKey(Base):
    """A key issued to an agency: its jurisdiction (`path` of `unit_id`), operations, rate
    limit and expiry; revoked keys are kept for the audit trail."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    agency: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    operations: Mapped[list[str]] = mapped_column(ARRAY(Text))
    rate_limit_per_minute: Mapped[int]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    revoke_reason: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class ApiKeySecret(Base):
    """One secret of a key, as a digest; `retires_at` is set when a rotation replaces it."""

    __tablename__ = "api_key_secrets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id"))
    path: Mapped[str] = mapped_column(Ltree())
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[datetime]
    retires_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookSubscription(Base):
    """Where a key's agency wants event changes pushed, and how far the fan-out has read."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id"))
    path: Mapped[str] = mapped_column(Ltree())
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    actions: Mapped[list[str] | None] = mapped_column(ARRAY(Text), default=None)
    categories: Mapped[list[str] | None] = mapped_column(ARRAY(Text), default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_serial: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class WebhookAttempt(Base):
    """One try at delivering one change to one subscription (the delivery log)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    path: Mapped[str] = mapped_column(Ltree())
    delivery_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    action: Mapped[str | None] = mapped_column(String(32), default=None)
    attempt: Mapped[int]
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(default=None)
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int]

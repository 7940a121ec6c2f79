"""SMS (短信) from the outbox, through a pluggable gateway chosen by `GRID_SMS_GATEWAY`. The
default writes each message to the log, so a platform without a gateway contract still works;
`http` posts `{"phone", "text"}` as JSON to `GRID_SMS_URL` with `GRID_SMS_TOKEN` as a bearer
token — the shape most Chinese SMS platforms' HTTP bridges accept.

An outbox message names its recipient (`user_id`), never their number: the outbox is a job
payload, kept and read long after delivery (R-JUR-3). The number is looked up as the message
goes out, so a number changed meanwhile is the one texted."""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.masking import Mask, mask_value
from services.db import system_session
from services.models import User
from services.outbox import DeliveryFailed
from services.settings import Settings

log = logging.getLogger("grid.sms")
TIMEOUT_SECONDS = 5.0


class Gateway(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class LoggingGateway:
    async def send(self, phone: str, text: str) -> None:
        log.info("sms to %s: %s", mask_value(Mask.PHONE, phone), text)


class HttpGateway:
    def __init__(self, url: str, token: str, client: httpx.AsyncClient | None = None) -> None:
        self.url, self.token = url, token
        # Redirects are not followed: a gateway that moves is a configuration error.
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    async def send(self, phone: str, text: str) -> None:
        try:
            response = await self.client.post(
                self.url,
                json={"phone": phone, "text": text},
                headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


@dataclass
class SmsSender:
    """Delivers the outbox's `sms` messages `{"user_id", "text", …}` to the recipient's
    current phone; a recipient left without one is a failed attempt."""

    maker: async_sessionmaker[AsyncSession]
    gateway: Gateway

    async def deliver(self, payload: Mapping[str, Any]) -> None:
        async with system_session(self.maker) as session:
            phone = await session.scalar(
                select(User.phone).where(User.id == uuid.UUID(str(payload["user_id"])))
            )
        if not phone:
            raise DeliveryFailed("the recipient has no phone number")
        await self.gateway.send(phone, payload["text"])


def gateway_from(settings: Settings) -> Gateway:
    """The configured gateway; an unknown name is a startup error, not a silent default."""
    if settings.sms_gateway == "log":
        return LoggingGateway()
    if settings.sms_gateway == "http":
        if not settings.sms_url:
            raise ValueError("GRID_SMS_GATEWAY=http needs GRID_SMS_URL")
        return HttpGateway(settings.sms_url, settings.sms_token)
    raise ValueError(f"unknown GRID_SMS_GATEWAY {settings.sms_gateway!r} (log or http)")

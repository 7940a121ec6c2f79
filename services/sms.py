"""SMS gateways (短信): pluggable, chosen by `GRID_SMS_GATEWAY`. The default writes each
message to the log, so a platform without a gateway contract still works; `http` posts
`{"phone", "text"}` as JSON to `GRID_SMS_URL` with `GRID_SMS_TOKEN` as a bearer token —
the shape most Chinese SMS platforms' HTTP bridges accept."""

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from services.outbox import DeliveryFailed, Sender
from services.settings import Settings

log = logging.getLogger("grid.sms")
TIMEOUT_SECONDS = 5.0


class LoggingGateway:
    async def deliver(self, payload: Mapping[str, Any]) -> None:
        log.info("sms to %s: %s", payload["phone"], payload["text"])


class HttpGateway:
    def __init__(self, url: str, token: str, client: httpx.AsyncClient | None = None) -> None:
        self.url, self.token = url, token
        # Redirects are not followed: a gateway that moves is a configuration error.
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    async def deliver(self, payload: Mapping[str, Any]) -> None:
        try:
            response = await self.client.post(
                self.url,
                json={"phone": payload["phone"], "text": payload["text"]},
                headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def gateway_from(settings: Settings) -> Sender:
    """The configured gateway; an unknown name is a startup error, not a silent default."""
    if settings.sms_gateway == "log":
        return LoggingGateway()
    if settings.sms_gateway == "http":
        if not settings.sms_url:
            raise ValueError("GRID_SMS_GATEWAY=http needs GRID_SMS_URL")
        return HttpGateway(settings.sms_url, settings.sms_token)
    raise ValueError(f"unknown GRID_SMS_GATEWAY {settings.sms_gateway!r} (log or http)")

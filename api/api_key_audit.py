"""Every call made with an API key is written to the audit trail (R-API-1, R-AUD-1), whatever
its outcome: the entry is written after the answer, in a transaction of its own, so a call
whose own changes rolled back (a 404, a 409) is still on record. Calls refused before the
key was known (401) or over its rate limit (429) are not: they did nothing, and logging a
flood would let it load the audit chain."""

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import API_KEY_STATE
from domain.principal import Principal
from services import api_keys
from services.clock import Clock
from services.context import Ctx


class ApiKeyAuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            principal = scope.get("state", {}).get(API_KEY_STATE)
            if isinstance(principal, Principal):
                await _record(scope, principal, status)


async def _record(scope: Scope, principal: Principal, status: int) -> None:
    state = scope["app"].state
    clock: Clock = state.clock
    session: AsyncSession
    async with state.request_session() as session:
        ctx = Ctx(
            session=session,
            principal=principal,
            clock=clock,
            request_id=scope.get("state", {}).get("request_id"),
        )
        await api_keys.record_call(ctx, method=scope["method"], path=scope["path"], status=status)
        await session.commit()

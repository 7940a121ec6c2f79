"""The application factory: lifespan resources, middleware, error handlers, routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.api_key_audit import ApiKeyAuditMiddleware
from api.body_guard import BodyGuardMiddleware
from api.deps import new_request_id
from api.idempotency import IdempotencyMiddleware
from api.routers import ROUTERS
from api.routing import PrefixGate
from api.web import console, web_directory
from services import heap, log_privacy
from services.clock import Clock, SystemClock
from services.db import make_engine, make_sessionmaker
from services.settings import get_settings
from services.storage import storage_from


class RequestIdMiddleware:
    """Every request gets an id (or keeps the caller's `X-Request-ID`), echoed back and
    written into audit entries."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode()[:64]
        rid = given or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(*, clock: Clock | None = None) -> FastAPI:
    settings = get_settings()
    log_privacy.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        # Request transactions come from here; tests bind it to their rolled-back connection.
        app.state.request_session = app.state.sessionmaker
        app.state.redis = Redis.from_url(settings.redis_url)
        heap.settle()
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="网格化社会服务管理平台 API",
        version="1.0.0",
        description="Grid-based social governance platform. Errors are application/problem+json.",
        lifespan=lifespan,
    )
    app.state.clock = clock or SystemClock()
    app.state.storage = storage_from(settings)
    errors.install(app)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(ApiKeyAuditMiddleware)
    app.add_middleware(BodyGuardMiddleware)
    app.add_middleware(RequestIdMiddleware)
    for router in ROUTERS:
        app.include_router(PrefixGate(router))
    app.mount("/", console(web_directory()), name="web")
    return app

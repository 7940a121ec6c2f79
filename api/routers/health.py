"""Liveness and readiness (public)."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(probe: Callable[[], Awaitable[object]], seconds: float) -> str:
    """`ok`, or why the dependency did not answer in time."""
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        return f"error: no answer within {seconds:g} s"
    except Exception as exc:  # readiness reports any failure instead of raising
        return f"error: {type(exc).__name__}"
    return "ok"


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 only when PostgreSQL and Redis both answer, each within its timeout (checked
    side by side); otherwise 503 naming the dependencies that failed and why."""
    state = request.app.state

    async def database() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await state.redis.ping()

    timeout = get_settings().ready_timeout_seconds
    names = ("database", "redis")
    results = await asyncio.gather(*(_check(probe, timeout) for probe in (database, redis)))
    checks = dict(zip(names, results, strict=True))
    failed = [name for name, result in checks.items() if result != "ok"]
    return JSONResponse(
        {"status": "unavailable" if failed else "ready", "checks": checks, "failed": failed},
        status_code=503 if failed else 200,
    )

"""Sign-in, token refresh and the caller's own profile (R-ORG-3)."""

from typing import Annotated

from fastapi import APIRouter

from api.deps import ClockDep, RedisDep, Session, requires
from api.schemas.auth import MeOut, RefreshRequest, TokenOut, TokenRequest
from api.schemas.common import PROBLEM_RESPONSES
from domain.permissions import Perm
from services import auth, users
from services.context import Ctx

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEM_RESPONSES)


@router.post("/auth/token", response_model=TokenOut)
async def token(body: TokenRequest, session: Session, redis: RedisDep, clock: ClockDep) -> TokenOut:
    """Password sign-in. Five failures lock the account for a while; every failure reads the
    same, so the response never tells which part was wrong."""
    pair = await auth.login(session, redis, body.username, body.password, clock.now())
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post("/auth/refresh", response_model=TokenOut)
async def refresh(body: RefreshRequest, session: Session, clock: ClockDep) -> TokenOut:
    """Rotate the refresh token. Presenting a spent one revokes its whole family."""
    pair = await auth.refresh(session, body.refresh_token, clock.now())
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.get("/me", response_model=MeOut)
async def me(ctx: Annotated[Ctx, requires(Perm.SELF_READ)]) -> MeOut:
    return MeOut.model_validate(await users.profile(ctx))

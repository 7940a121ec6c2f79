"""Request dependencies: the transaction, the clock, the caller and the permission gate."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError, PermissionDenied, Unauthenticated
from domain.permissions import Perm
from domain.principal import PUBLIC, Principal
from services import api_keys, auth, throttle
from services.clock import Clock
from services.context import Ctx
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.storage import Storage
from services.tokens import read_access_token


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (the dependency is
    used with scope="function", so a failed commit is a 500, never a hidden one after a 200)."""
    async with request.app.state.request_session() as session:
        try:
            yield session
        except DomainError as exc:
            if exc.keep_changes:
                await session.commit()
            raise
        await session.commit()


Session = Annotated[AsyncSession, Depends(db_session, scope="function")]


# Dependencies are coroutines: FastAPI runs plain functions (and classes) in a thread pool,
# a hop per request that costs more than the work they do.
async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


ClockDep = Annotated[Clock, Depends(get_clock)]
RedisDep = Annotated[Redis, Depends(get_redis)]
StorageDep = Annotated[Storage, Depends(get_storage)]

_bearer = HTTPBearer(auto_error=False)
# Agencies send their key in this header (API.md); a key wins over a bearer token.
API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
# Where the key's principal is left for `api.api_key_audit`, which logs the call.
API_KEY_STATE = "api_key_principal"


async def key_principal(
    request: Request, session: AsyncSession, redis: Redis, raw: str, clock: Clock
) -> Principal:
    """The principal of an agency's raw key (R-API-1), rate-limited; the call is then audited
    with the key's id once it is answered. Any route that takes a key some other way (the
    Open311 form's `api_key`) comes through here too."""
    principal = await api_keys.authenticate(session, redis, raw, clock.now())
    setattr(request.state, API_KEY_STATE, principal)
    return principal


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ApiKey = Annotated[str | None, Depends(_api_key)]


async def _principal(
    request: Request,
    session: AsyncSession,
    credentials: HTTPAuthorizationCredentials | None,
    raw_key: str | None,
) -> Principal:
    """The signed-in user, or the agency whose API key is presented."""
    state = request.app.state
    if raw_key is not None:
        return await key_principal(request, session, state.redis, raw_key, state.clock)
    if credentials is None:
        raise Unauthenticated(extra={"headers": {"WWW-Authenticate": "Bearer"}})
    user_id = read_access_token(credentials.credentials, state.clock.now())
    return await auth.load_principal(session, user_id)


class Requires:
    """The permission gate every protected route declares; yields the use-case context.

    The route-table test finds instances of this class in each route's dependencies, so a
    route without a declared permission fails the build. Its own parameters are all it
    depends on (the clock is read from the application): every protected request solves
    this gate, and each dependency costs FastAPI more to solve than to run.
    """

    def __init__(self, permission: Perm) -> None:
        self.permission = permission

    async def __call__(
        self, request: Request, session: Session, credentials: Bearer, raw_key: ApiKey
    ) -> Ctx:
        principal = await _principal(request, session, credentials, raw_key)
        if not principal.can(self.permission):
            raise PermissionDenied(params={"permission": self.permission.value})
        return Ctx(
            session=session,
            principal=principal,
            clock=request.app.state.clock,
            request_id=request.state.request_id,
        )


def requires(permission: Perm) -> Any:
    return Depends(Requires(permission))


# The public form: this many submissions and look-ups an hour from one client address.
PUBLIC_LIMIT_PER_HOUR = 60


async def public_ctx(request: Request, session: Session, clock: ClockDep, redis: RedisDep) -> Ctx:
    """The context of an anonymous citizen (R-CIT-1): the platform acts on their behalf
    (`domain.principal.PUBLIC`), and each client address is throttled, which also makes
    guessing receipt codes hopeless."""
    await throttle.hit(
        redis,
        name="public",
        subject=request.client.host if request.client else "unknown",
        limit=PUBLIC_LIMIT_PER_HOUR,
        window_seconds=3600,
        now=clock.now(),
    )
    return Ctx(session=session, principal=PUBLIC, clock=clock, request_id=request.state.request_id)


PublicCtx = Annotated[Ctx, Depends(public_ctx)]


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> PageParams:
    return PageParams(limit, cursor)


Paging = Annotated[PageParams, Depends(page_params)]


async def request_id(request: Request) -> str:
    rid: str = request.state.request_id
    return rid


def new_request_id() -> str:
    return uuid.uuid4().hex

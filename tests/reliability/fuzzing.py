"""The fuzzing harness: schemathesis draws requests from the committed openapi/openapi.json,
the app answers them in-process over httpx on the test's own event loop, inside one
rolled-back transaction on a territory with a user for every demo role."""

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.errors import DomainError
from domain.permissions import Role
from services.clock import Clock
from services.models import User
from tests.factories import World, auth, build_world, make_user
from tests.routes import collect, prepare

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(SPEC)


def _operations() -> dict[str, Any]:
    """Every operation of the document; one the loader cannot read fails the run here."""
    found = {}
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result
        found[result.ok().label] = result.ok()
    return found


OPERATIONS = _operations()

# Every response is checked against the document: declared status, declared media type and
# headers, the body against its schema, and never a 5xx.
RESPONSE_CHECKS: list[CheckFunction] = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
# Data outside the document's schemas must be refused with a 4xx.
NEGATIVE_CHECKS: list[CheckFunction] = [
    *RESPONSE_CHECKS,
    openapi_checks.negative_data_rejection,
]


def _refused_unauthenticated(ctx: Any, response: Any, case: Any) -> bool | None:
    """No credentials: 401 as problem+json, whatever else the request holds."""
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert response.headers["content-type"][0].startswith("application/problem+json")
    return True


# A call without credentials to an operation the document secures.
ANONYMOUS_CHECKS: list[CheckFunction] = [*RESPONSE_CHECKS, _refused_unauthenticated]
# The operations open to anyone by design (tests/api/test_routes.py PUBLIC lists them).
PUBLIC = {label for label, op in OPERATIONS.items() if not op.definition.raw.get("security")}

T = TypeVar("T")


@dataclass
class Fuzz:
    """The running app, its event loop, a token per demo role and, per operation, path
    parameters naming records that exist (from the jurisdiction route table's setups)."""

    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    tokens: dict[Role, dict[str, str]]
    known: dict[tuple[str, str], dict[str, str]]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """From the fuzzing thread: run a coroutine on the app's loop and wait for it."""
        assert threading.current_thread() is not threading.main_thread()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def send(self, case: Any, headers: dict[str, str]) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url="http://test", headers=headers)
        return self.run(self._request(kwargs))

    async def _request(self, kwargs: dict[str, Any]) -> httpx.Response:
        body: dict[str, Any] = {}
        if "json" in kwargs:
            body["json"] = kwargs["json"]
        if kwargs.get("data") is not None:
            data = kwargs["data"]
            body["content" if isinstance(data, bytes | str) else "data"] = data
        if kwargs.get("files"):
            body["files"] = kwargs["files"]
        return await self.client.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=kwargs.get("headers"),
            **body,
        )


# The demo's placement of each role (services.bootstrap), on the test territory.
def role_home(world: World, role: Role) -> dict[str, Any]:
    if role in (Role.GRID_WORKER, Role.GRID_LEADER):
        return {"unit": world.g1}
    if role == Role.COMMUNITY_STAFF:
        return {"unit": world.c1}
    if role == Role.STREET_OPERATOR:
        return {"unit": world.s1}
    if role == Role.DEPARTMENT_HANDLER:
        return {"department": world.dept_s1}
    return {"unit": world.district}


def _path_values(template: str, path: str) -> dict[str, str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    assert match, (template, path)
    return match.groupdict()


async def open_fuzz(app: FastAPI, connection: AsyncConnection, clock: Clock) -> AsyncIterator[Fuzz]:
    """The territory, the demo roles and the route table's records, written into the
    caller's transaction; the app's request sessions join it."""
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as s:
        world = await build_world(s, clock)
        users: dict[Role, User] = {
            role: await make_user(
                s, roles=[role.value], username=f"fuzz_{role.value}", **role_home(world, role)
            )
            for role in Role
        }
        known = {}
        for (method, template), setup in collect().scoped.items():
            # A few setups make the same unique record (one review per unit and period):
            # each runs in a savepoint, and one that collides leaves its route random ids.
            try:
                async with s.begin_nested():
                    call = await prepare(setup, s, world, clock)
            except (IntegrityError, DomainError):
                continue
            known[(method, template)] = _path_values(template, call.path.split("?")[0])
        tokens = {role: auth(user, clock) for role, user in users.items()}
        await s.commit()
    app.state.request_session = lambda: AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Fuzz(
                client=client,
                loop=asyncio.get_running_loop(),
                tokens=tokens,
                known=known,
            )
    finally:
        app.state.request_session = app.state.sessionmaker


def explore(
    fuzz: Fuzz,
    operation: Any,
    *,
    mode: GenerationMode,
    examples: int,
    tokens: list[dict[str, str]],
    path_parameters: dict[str, str] | None = None,
    checks: list[CheckFunction] = RESPONSE_CHECKS,
) -> None:
    """Draw `examples` cases for the operation (derandomized: the same cases every run),
    send each once with every set of credentials and check every response. Runs in a
    thread of its own."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        for headers in tokens:
            response = fuzz.send(case, headers)
            case.validate_response(response, checks=checks, headers=headers)

    check()


async def in_thread(function: Callable[[], None]) -> None:
    """Hypothesis drives a synchronous test: it runs in a thread while this loop serves."""
    await asyncio.to_thread(function)

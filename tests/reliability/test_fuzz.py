"""Fuzzing (issue 6): schemathesis over openapi/openapi.json, every operation, every demo
role's token — no 5xx, every response as the document declares it (status, media type,
schema), no ignored auth, and data outside the schemas refused with a 4xx."""

from collections.abc import AsyncIterator
from functools import partial

import pytest
from fastapi import FastAPI
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.permissions import Role
from tests.conftest import MovableClock
from tests.reliability.fuzzing import (
    ANONYMOUS_CHECKS,
    NEGATIVE_CHECKS,
    OPERATIONS,
    PUBLIC,
    Fuzz,
    explore,
    in_thread,
    open_fuzz,
)


@pytest.fixture(scope="module")
async def fuzz(app: FastAPI, engine: AsyncEngine, clock: MovableClock) -> AsyncIterator[Fuzz]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        async for f in open_fuzz(app, connection, clock):
            yield f
        await transaction.rollback()


POSITIVE = GenerationMode.POSITIVE
# Nothing in these can be made invalid: no input at all (health checks), or one path string
# with no constraint (the Open311 format, whose wrong values are unknown resources, 404) and,
# for Open311's POST, form fields the spec leaves without a schema.
# They are fuzzed with valid data like every other operation; the test below shows that
# negative generation really has nothing to vary.
NOT_NEGATABLE = {
    "GET /healthz",
    "GET /readyz",
    "GET /open311/v2/discovery.{format}",
    "POST /open311/v2/requests.{format}",
}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
async def test_operation(fuzz: Fuzz, label: str) -> None:
    operation = OPERATIONS[label]
    known = fuzz.known.get((operation.method.upper(), operation.path))
    admin = [fuzz.tokens[Role.ADMIN]]
    others = [headers for role, headers in fuzz.tokens.items() if role != Role.ADMIN]
    run = partial(explore, fuzz, operation)
    await in_thread(partial(run, mode=POSITIVE, examples=3, tokens=admin))
    if known:
        await in_thread(
            partial(run, mode=POSITIVE, examples=3, tokens=admin, path_parameters=known)
        )
    if label not in NOT_NEGATABLE:
        negative = partial(run, mode=GenerationMode.NEGATIVE, checks=NEGATIVE_CHECKS)
        await in_thread(partial(negative, examples=2, tokens=admin))
    # The same case for every other demo role: what one role may do another must refuse
    # cleanly (403/404), never with a 5xx.
    await in_thread(partial(run, mode=POSITIVE, examples=2, tokens=others, path_parameters=known))


@pytest.mark.parametrize("label", sorted(set(OPERATIONS) - PUBLIC))
async def test_no_credentials_is_401(fuzz: Fuzz, label: str) -> None:
    """R-ORG-3: no operation the document secures ignores a missing token."""
    operation = OPERATIONS[label]
    known = fuzz.known.get((operation.method.upper(), operation.path))
    await in_thread(
        partial(
            explore,
            fuzz,
            operation,
            mode=POSITIVE,
            examples=1,
            tokens=[{}],
            path_parameters=known,
            checks=ANONYMOUS_CHECKS,
        )
    )


@pytest.mark.parametrize("label", sorted(NOT_NEGATABLE))
async def test_nothing_to_negate(fuzz: Fuzz, label: str) -> None:
    with pytest.raises(Unsatisfiable):
        await in_thread(
            partial(
                explore,
                fuzz,
                OPERATIONS[label],
                mode=GenerationMode.NEGATIVE,
                examples=2,
                tokens=[fuzz.tokens[Role.ADMIN]],
                checks=NEGATIVE_CHECKS,
            )
        )

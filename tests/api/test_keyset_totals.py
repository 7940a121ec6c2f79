"""A list's total (API.md lists) is counted on its first page and carried by the cursor:
recounting a district of millions for every page would cost more than the page. A cursor
whose total is missing or forged is a 400 like any other forged cursor."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from services.pagination import decode_cursor, encode_cursor
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.houses import make_house
from tests.routes.people import make_person

Make = Callable[..., Awaitable[dict[str, Any]]]
# The people list pages through a compiled keyset, the houses list through `paginate`.
LISTS: dict[str, tuple[str, Make]] = {
    "people": ("/api/v1/people", make_person),
    "houses": ("/api/v1/houses", make_house),
}


async def _listed(
    session: AsyncSession, world: World, clock: MovableClock, make: Make, count: int
) -> dict[str, str]:
    """`count` records in grid G1; the district admin's headers, who sees them all."""
    for _ in range(count):
        await make(session, clock, world.g1)
    return auth(world.admin_d, clock)


@pytest.mark.parametrize("name", sorted(LISTS))
async def test_the_first_page_counts_and_the_following_pages_carry_its_total(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, name: str
) -> None:
    url, make = LISTS[name]
    headers = await _listed(session, world, clock, make, 3)
    first = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["next_cursor"]
    await make(session, clock, world.g2)
    following = await client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    assert following.status_code == 200, following.text
    assert following.json()["total"] == 3
    again = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    assert again["total"] == 4


@pytest.mark.parametrize("name", sorted(LISTS))
async def test_a_cursor_without_its_total_or_with_a_forged_one_is_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, name: str
) -> None:
    url, make = LISTS[name]
    headers = await _listed(session, world, clock, make, 2)
    cursor = (await client.get(url, params={"limit": 1}, headers=headers)).json()["next_cursor"]
    sort, ident, total = decode_cursor(cursor, 3)
    assert total == 2
    for forged in ([sort, ident], [sort, ident, -1], [sort, ident, "2"], [sort, ident, True]):
        r = await client.get(
            url, params={"limit": 1, "cursor": encode_cursor(forged)}, headers=headers
        )
        assert_problem(r, 400, "cursor_invalid")

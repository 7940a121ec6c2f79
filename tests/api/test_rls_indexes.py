"""Row-level security must not cost the searches their indexes (R-POP-1 search, R-JUR-1):
under a caller's scope, a name search can still be answered from the index of its grams, and
the people list still pages grid by grid through its indexes."""

import re
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE, Principal
from services import people
from services.clock import SystemClock
from services.context import Ctx
from services.db import set_scope
from tests.factories import World


async def test_a_name_search_under_row_level_security_uses_the_grams_index(
    session: AsyncSession, world: World
) -> None:
    principal = Principal(
        user_id=None,
        username="t",
        full_name="t",
        unit_id=world.district.id,
        department_id=None,
        scope=SYSTEM_SCOPE,
        roles=(),
        permissions=frozenset(),
        is_superuser=False,
    )
    ctx = Ctx(session=session, principal=principal, clock=SystemClock())
    stmt = await people.people_query(ctx, people.PersonFilters(q="张"))
    sql = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    # The whole tree, so no path index can stand in: the policy alone filters the rows.
    await set_scope(session, SYSTEM_SCOPE)
    # However small the table, the planner must be able to search the index when told to:
    # with plain scans ruled out only an index condition on the name can serve the query.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    await session.execute(text("SET LOCAL enable_indexscan = off"))
    plan = "\n".join((await session.execute(text(f"EXPLAIN {sql}"))).scalars())
    assert "ix_people_name_grams" in plan, plan


@pytest.mark.parametrize("unit", [False, True], ids=["jurisdiction", "unit"])
@pytest.mark.parametrize("following", [False, True], ids=["first_page", "following_page"])
async def test_r_pop_1_a_people_page_probes_each_grid_in_code_order_never_sorts_everyone(
    session: AsyncSession, world: World, following: bool, unit: bool
) -> None:
    """The list runs grid by grid: grids in code order, from the cursor's code on, and each
    grid's people by the grid index — never the scope's people gathered by the path index
    and sorted — so a page of a district of millions reads a page's worth of rows at any
    depth. The scope is bound like a caller's, so the
    planner cannot tell how much of the tree it covers."""
    shape = people._Shape(
        everything=False, unit=unit, kind=False, status=False, house=False, q=False
    )
    pages = people._pages(shape)
    statement = pages.following if following else pages.first
    values = {
        "scope": world.district.path,
        "unit_path": world.s1.path,
        "limit": 51,
        "after_sort": world.g1.code,
        "after_id": uuid.uuid4(),
    }
    args = [values.get(name, statement.constants.get(name)) for name in statement.names]
    await set_scope(session, world.district.path)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    plan = "\n".join(row[0] for row in await driver.fetch(f"EXPLAIN {statement.sql}", *args))
    assert re.search(r"(Index|Recheck) Cond: \(grid_id = org_units\.id\)", plan), plan
    assert "ix_people_path" not in plan, plan

"""Row-level security must not cost the searches their indexes (R-POP-1 search, R-JUR-1):
under a caller's scope, a name search can still be answered from the index of its grams."""

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

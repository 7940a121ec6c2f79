"""Row-level security is the fail-closed backstop of jurisdiction (R-JUR-1): the application
role is neither superuser nor table owner, and an unset or empty scope sees no rows."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from tests.factories import World

SCOPED_TABLES = ["org_units", "org_unit_versions", "departments", "users", "audit_log"]


async def test_the_app_role_is_not_superuser_nor_owner(session: AsyncSession) -> None:
    role = (
        await session.execute(
            text(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
        )
    ).one()
    assert role.rolname == "grid_app"
    assert not role.rolsuper and not role.rolbypassrls
    owners = (
        (
            await session.execute(
                text("SELECT DISTINCT tableowner FROM pg_tables WHERE tablename = ANY(:t)"),
                {"t": SCOPED_TABLES},
            )
        )
        .scalars()
        .all()
    )
    assert "grid_app" not in owners


async def test_every_scoped_table_forces_row_level_security(session: AsyncSession) -> None:
    rows = (
        await session.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname = ANY(:t)"
            ),
            {"t": SCOPED_TABLES},
        )
    ).all()
    assert {r.relname for r in rows if r.relrowsecurity and r.relforcerowsecurity} == set(
        SCOPED_TABLES
    )


@pytest.mark.parametrize("table", SCOPED_TABLES)
@pytest.mark.parametrize("scope", [None, ""], ids=["unset", "empty"])
async def test_unset_or_empty_scope_sees_no_rows(
    session: AsyncSession, world: World, table: str, scope: str | None
) -> None:
    """An unset setting comes back as '' on a pooled connection, and ''::ltree is the root
    that contains every path: both must mean "no rows", never "all rows"."""
    await set_scope(session, "*")
    assert (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() > 0
    if scope is None:
        await session.execute(text("RESET grid.scope"))
    else:
        await set_scope(session, scope)
    assert (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0


async def test_scope_limits_rows_to_the_subtree(session: AsyncSession, world: World) -> None:
    await set_scope(session, world.s2.path)
    codes = set(
        (await session.execute(text("SELECT code FROM org_units WHERE level = 'grid'"))).scalars()
    )
    assert codes == {world.g3.code}


async def test_writes_outside_the_scope_are_refused_by_the_database(
    session: AsyncSession, world: World
) -> None:
    """Even a query that forgot the jurisdiction filter cannot change a sibling's rows."""
    await set_scope(session, world.s2.path)
    changed = await session.execute(
        text("UPDATE org_units SET name = 'hijacked' WHERE id = :id"), {"id": world.g1.id}
    )
    assert changed.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="row-level security"):
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO departments (id, code, name, unit_id, path) "
                    "VALUES (gen_random_uuid(), 'X1', 'x', :unit, :path)"
                ),
                {"unit": world.s1.id, "path": world.s1.path},
            )


async def test_a_garbage_scope_fails_closed(session: AsyncSession, world: World) -> None:
    await set_scope(session, "not a path!")
    with pytest.raises(Exception, match="ltree"):
        async with session.begin_nested():
            await session.execute(text("SELECT count(*) FROM org_units"))

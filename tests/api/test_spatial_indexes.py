"""Spatial indexes hold only records with a place (migration 0050): adding a NULL geometry to
a GiST index of a city's events cost a report 10 ms, and no spatial test matches a NULL."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SPATIAL_INDEXES = text("""
SELECT c.relname AS tbl, a.attname AS col, a.attnotnull AS not_null,
       pg_get_expr(x.indpred, x.indrelid) AS predicate
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_am am ON am.oid = i.relam AND am.amname = 'gist'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
WHERE format_type(a.atttypid, a.atttypmod) LIKE 'geometry%'
""")


async def test_every_spatial_index_of_a_nullable_geometry_leaves_the_nulls_out(
    session: AsyncSession,
) -> None:
    """For tables added later too."""
    rows = (await session.execute(SPATIAL_INDEXES)).all()
    assert {row.tbl for row in rows} >= {"events", "people", "houses", "org_units"}
    for row in rows:
        if not row.not_null:
            assert row.predicate == f"({row.col} IS NOT NULL)", (row.tbl, row.predicate)


async def test_a_box_query_still_reads_the_partial_index(session: AsyncSession) -> None:
    """`&&` is strict, so the planner knows the rows it matches are not NULL."""
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        (
            await session.execute(
                text(
                    "EXPLAIN SELECT id FROM events"
                    " WHERE location && ST_MakeEnvelope(75.9, 39.4, 76.0, 39.5, 4326)"
                )
            )
        ).scalars()
    )
    await session.execute(text("SET LOCAL enable_seqscan = on"))
    assert "ix_events_location" in plan, plan

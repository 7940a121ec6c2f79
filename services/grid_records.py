"""The records that live in a grid, for the delete guard and the move endpoint (R-GRID-2).

Users whose home is the grid are records; so is every row of a grid-bound registry table
(columns `grid_id` and `path`). Registries list their tables in GRID_BOUND_TABLES; moving
re-homes the rows and their jurisdiction path in one statement per table.
"""

from sqlalchemy import func, select, text, update

from services.context import Ctx
from services.models import OrgUnit, User

# Grid-bound registry tables (each has `grid_id` and `path`), in no particular order.
GRID_BOUND_TABLES: list[str] = [
    "addresses",
    "houses",
    "rentals",
    "people",
    "households",
    "families",
    "person_tags",
    "organisations",
    "places",
    "teams",
    "components",
    "video_points",
    "events",
]
# Link tables whose `path` follows their owner row: (table, owner table, owner key column).
LINKED_TABLES: list[tuple[str, str, str]] = [
    ("household_members", "households", "household_id"),
    ("family_members", "families", "family_id"),
    ("event_steps", "events", "event_id"),
    ("event_actions", "events", "event_id"),
    ("open311_requests", "events", "event_id"),
    ("place_kinds", "places", "place_id"),
    ("team_members", "teams", "team_id"),
    ("service_records", "teams", "team_id"),
]


async def count_records(ctx: Ctx, grid: OrgUnit) -> dict[str, int]:
    """Rows per kind still attached to the grid (kinds with none are omitted)."""
    counts = {
        "users": int(
            await ctx.session.scalar(
                select(func.count()).select_from(User).where(User.unit_id == grid.id)
            )
            or 0
        )
    }
    for table in GRID_BOUND_TABLES:
        counts[table] = int(
            await ctx.session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE grid_id = :grid"), {"grid": grid.id}
            )
            or 0
        )
    return {name: n for name, n in counts.items() if n}


async def move_records(ctx: Ctx, source: OrgUnit, target: OrgUnit) -> dict[str, int]:
    """Re-home every record of `source` to `target` in the caller's transaction; the counts
    of what moved, per kind (kinds with none are omitted)."""
    users = await ctx.session.execute(
        update(User)
        .where(User.unit_id == source.id)
        .values(unit_id=target.id, path=target.path, version=User.version + 1)
        .returning(User.id)
    )
    moved = {"users": len(users.all())}
    for table in GRID_BOUND_TABLES:
        result = await ctx.session.execute(
            text(
                f"UPDATE {table} SET grid_id = :target, path = :path "
                "WHERE grid_id = :source RETURNING 1"
            ),
            {"target": target.id, "path": target.path, "source": source.id},
        )
        moved[table] = len(result.all())
    for table, owner, key in LINKED_TABLES:
        # Link rows take their owner's new path so row-level security keeps showing them.
        await ctx.session.execute(
            text(
                f"UPDATE {table} AS link SET path = :path FROM {owner} AS owner "
                f"WHERE link.{key} = owner.id AND owner.grid_id = :target"
            ),
            {"path": target.path, "target": target.id},
        )
    return {name: n for name, n in moved.items() if n}

"""First-run tasks for the CLI: the superuser and the demo city."""

import uuid

from sqlalchemy import select

from domain.org import Level
from domain.permissions import Role
from domain.principal import SYSTEM
from services import audit, demo_data, demo_events, departments, grids, org_units, users
from services.clock import SystemClock
from services.constraints import flush_unique
from services.context import Ctx
from services.db import make_engine, make_sessionmaker, system_session
from services.demo_layout import DemoUnit, kashgar_layout
from services.models import OrgUnit, User, UserRole
from services.passwords import hash_password
from services.settings import get_settings

DEMO_PASSWORD = "demo12345"
DEMO_DEPARTMENTS = (
    ("GA", "喀什市公安局"),
    ("MZ", "喀什市民政局"),
    ("CG", "喀什市城市管理局"),
    ("SF", "喀什市司法局"),
    ("XF", "喀什市信访局"),
    ("RS", "喀什市人力资源和社会保障局"),
    ("ZJ", "喀什市住房和城乡建设局"),
    ("YJ", "喀什市应急管理局"),
    ("SCJG", "喀什市市场监督管理局"),
)


async def create_admin(username: str, password: str) -> uuid.UUID:
    """A superuser above the whole tree (API.md `gridctl create-admin`)."""
    engine = make_engine(get_settings().database_url)
    try:
        async with system_session(make_sessionmaker(engine)) as session:
            ctx = Ctx(session=session, principal=SYSTEM, clock=SystemClock())
            now = ctx.now()
            user = User(
                username=username,
                password_hash=hash_password(password),
                full_name="系统管理员",
                is_superuser=True,
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            await flush_unique(session, username=username)
            session.add(UserRole(user_id=user.id, role_code=Role.ADMIN.value))
            await audit.record(
                ctx,
                action="user.create",
                target_type="user",
                target_id=user.id,
                unit_path=None,
                after={**users.snapshot(user, [Role.ADMIN.value]), "is_superuser": True},
            )
            return user.id
    finally:
        await engine.dispose()


async def seed_demo(
    people: int,
    events: int = demo_events.DEFAULT_EVENTS,
    progress: demo_data.Progress | None = None,
) -> bool:
    """Load the demo city once: 喀什市 with streets, communities, grids, departments, one
    user per role (password `demo12345`), `people` synthetic residents with their houses
    (services.demo_data) and a year of `events` played through the workflow
    (services.demo_events). False when it is already there."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        async with system_session(make_sessionmaker(engine)) as session:
            ctx = Ctx(session=session, principal=SYSTEM, clock=SystemClock())
            loaded = await load_demo_city(ctx, people=people, events=events, progress=progress)
    finally:
        await engine.dispose()
    if loaded:
        await demo_data.analyze(settings.owner_url)
    return loaded


async def load_demo_city(
    ctx: Ctx,
    *,
    people: int,
    events: int = demo_events.DEFAULT_EVENTS,
    progress: demo_data.Progress | None = None,
    layout: DemoUnit | None = None,
) -> bool:
    """The demo city (by default `kashgar_layout()`; the benchmarks cut it finer) in the
    caller's transaction (all or nothing); False when it is already there."""
    session = ctx.session
    layout = layout or kashgar_layout()
    present = await session.scalar(
        select(OrgUnit.id).where(OrgUnit.code == layout.code, org_units.live())
    )
    if present:
        return False
    homes = await _load_units(ctx, layout, None)
    police = await departments.create_department(
        ctx,
        code=DEMO_DEPARTMENTS[0][0],
        name=DEMO_DEPARTMENTS[0][1],
        unit_id=homes[Level.DISTRICT],
    )
    for code, name in DEMO_DEPARTMENTS[1:]:
        await departments.create_department(
            ctx, code=code, name=name, unit_id=homes[Level.DISTRICT]
        )
    await _demo_users(ctx, homes, police["id"])
    await demo_data.load_population(ctx, homes[Level.DISTRICT], people=people, progress=progress)
    await demo_events.load_demo_events(ctx, homes[Level.DISTRICT], count=events)
    return True


async def _load_units(ctx: Ctx, unit: DemoUnit, parent: OrgUnit | None) -> dict[Level, uuid.UUID]:
    """Insert a demo subtree; return the first unit created at each level (users' homes)."""
    level = Level(unit.level)
    if level == Level.GRID:
        assert parent is not None
        created = await grids.create_grid(
            ctx,
            code=unit.code,
            name=unit.name,
            parent_id=parent.id,
            geometry=unit.geometry,
        )
        return {level: created["id"]}
    row = await org_units.insert_unit(
        ctx, code=unit.code, name=unit.name, level=level, parent=parent, geometry=unit.geometry
    )
    homes: dict[Level, uuid.UUID] = {level: row.id}
    for child in unit.children:
        for child_level, child_id in (await _load_units(ctx, child, row)).items():
            homes.setdefault(child_level, child_id)
    return homes


async def _demo_users(ctx: Ctx, homes: dict[Level, uuid.UUID], police_id: uuid.UUID) -> None:
    placements: dict[Role, tuple[Level | None, str]] = {
        Role.GRID_WORKER: (Level.GRID, "阿依古丽·网格员"),
        Role.GRID_LEADER: (Level.GRID, "买买提·网格长"),
        Role.COMMUNITY_STAFF: (Level.COMMUNITY, "李社区"),
        Role.STREET_OPERATOR: (Level.STREET, "王街道"),
        Role.DISTRICT_OPERATOR: (Level.DISTRICT, "张指挥"),
        Role.DEPARTMENT_HANDLER: (None, "赵公安"),
        Role.LEADER: (Level.DISTRICT, "刘领导"),
        Role.ADMIN: (Level.DISTRICT, "陈管理员"),
        Role.AUDITOR: (Level.DISTRICT, "孙审计"),
    }
    for role, (level, full_name) in placements.items():
        await users.create_user(
            ctx,
            username=role.value,
            password=DEMO_PASSWORD,
            full_name=full_name,
            phone=None,
            unit_id=homes[level] if level else None,
            department_id=None if level else police_id,
            roles=[role.value],
        )

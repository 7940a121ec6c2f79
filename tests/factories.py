"""Plain async factories: a small territory with users at several levels, and tokens."""

import re
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from httpx import Response
from shapely.geometry import Polygon, box
from sqlalchemy.ext.asyncio import AsyncSession

from domain.messages import MESSAGES
from domain.org import Level
from domain.principal import SYSTEM, SYSTEM_SCOPE
from services import grids, org_units
from services.clock import Clock
from services.context import Ctx
from services.db import set_scope
from services.models import Department, OrgUnit, User, UserRole
from services.passwords import hash_password
from services.tokens import issue_access_token

PASSWORD = "secret123"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_PASSWORD_HASH = hash_password(PASSWORD)


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> Polygon:
    return box(lon0, lat0, lon1, lat1)


def geojson(polygon: Polygon) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(c) for c in polygon.exterior.coords]]}


async def system_ctx(session: AsyncSession, clock: Clock) -> Ctx:
    await set_scope(session, SYSTEM_SCOPE)
    return Ctx(session=session, principal=SYSTEM, clock=clock)


async def make_unit(
    session: AsyncSession,
    clock: Clock,
    *,
    code: str,
    level: Level,
    parent: OrgUnit | None,
    geometry: Polygon | None = None,
    name: str | None = None,
) -> OrgUnit:
    ctx = await system_ctx(session, clock)
    return await org_units.insert_unit(
        ctx,
        code=code,
        name=name or f"{level.value}-{code}",
        level=level,
        parent=parent,
        geometry=geometry,
    )


async def make_grid(
    session: AsyncSession, clock: Clock, *, code: str, parent: OrgUnit, geometry: Polygon
) -> OrgUnit:
    ctx = await system_ctx(session, clock)
    created = await grids.create_grid(
        ctx, code=code, name=f"网格{code[-3:]}", parent_id=parent.id, geometry=geometry
    )
    unit = await session.get(OrgUnit, created["id"])
    assert unit is not None
    return unit


async def make_user(
    session: AsyncSession,
    *,
    roles: list[str],
    unit: OrgUnit | None = None,
    department: Department | None = None,
    username: str | None = None,
    superuser: bool = False,
    phone: str | None = None,
) -> User:
    await set_scope(session, SYSTEM_SCOPE)
    user = User(
        username=username or f"user_{uuid.uuid4().hex[:10]}",
        password_hash=_PASSWORD_HASH,
        full_name="测试用户",
        phone=phone,
        unit_id=unit.id if unit else None,
        department_id=department.id if department else None,
        path=None
        if superuser
        else (unit.path if unit else department.path if department else None),
        is_superuser=superuser,
        created_at=_EPOCH,
        updated_at=_EPOCH,
    )
    session.add(user)
    await session.flush()
    session.add_all(UserRole(user_id=user.id, role_code=role) for role in roles)
    await session.flush()
    return user


def auth(user: User, clock: Clock) -> dict[str, str]:
    token, _ = issue_access_token(user.id, clock.now())
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    """District D with streets S1 and S2; S1 holds communities C1 and C2, S2 holds C3.
    C1 holds grids G1 and G2, C3 holds G3. Admins sit at D, S1 and S2."""

    district: OrgUnit
    s1: OrgUnit
    s2: OrgUnit
    c1: OrgUnit
    c2: OrgUnit
    c3: OrgUnit
    g1: OrgUnit
    g2: OrgUnit
    g3: OrgUnit
    dept_s1: Department
    admin_d: User
    admin_s1: User
    admin_s2: User
    worker_g1: User


async def build_world(session: AsyncSession, clock: Clock) -> World:
    d = await make_unit(
        session,
        clock,
        code="653101000000",
        level=Level.DISTRICT,
        parent=None,
        geometry=square(75.90, 39.40, 76.10, 39.60),
    )
    s1 = await make_unit(
        session,
        clock,
        code="653101001000",
        level=Level.STREET,
        parent=d,
        geometry=square(75.90, 39.40, 76.00, 39.60),
    )
    s2 = await make_unit(
        session,
        clock,
        code="653101002000",
        level=Level.STREET,
        parent=d,
        geometry=square(76.00, 39.40, 76.10, 39.60),
    )
    c1 = await make_unit(
        session,
        clock,
        code="653101001001",
        level=Level.COMMUNITY,
        parent=s1,
        geometry=square(75.90, 39.40, 76.00, 39.50),
    )
    c2 = await make_unit(
        session,
        clock,
        code="653101001002",
        level=Level.COMMUNITY,
        parent=s1,
        geometry=square(75.90, 39.50, 76.00, 39.60),
    )
    c3 = await make_unit(
        session,
        clock,
        code="653101002001",
        level=Level.COMMUNITY,
        parent=s2,
        geometry=square(76.00, 39.40, 76.10, 39.50),
    )
    g1 = await make_grid(
        session,
        clock,
        code="653101001001001",
        parent=c1,
        geometry=square(75.90, 39.40, 75.95, 39.45),
    )
    g2 = await make_grid(
        session,
        clock,
        code="653101001001002",
        parent=c1,
        geometry=square(75.95, 39.40, 76.00, 39.45),
    )
    g3 = await make_grid(
        session,
        clock,
        code="653101002001001",
        parent=c3,
        geometry=square(76.00, 39.40, 76.05, 39.45),
    )
    await set_scope(session, SYSTEM_SCOPE)
    dept = Department(
        code=f"GA{uuid.uuid4().hex[:6]}",
        name="派出所",
        unit_id=s1.id,
        path=s1.path,
        created_at=_EPOCH,
        updated_at=_EPOCH,
    )
    session.add(dept)
    await session.flush()
    return World(
        district=d,
        s1=s1,
        s2=s2,
        c1=c1,
        c2=c2,
        c3=c3,
        g1=g1,
        g2=g2,
        g3=g3,
        dept_s1=dept,
        admin_d=await make_user(session, roles=["admin"], unit=d),
        admin_s1=await make_user(session, roles=["admin"], unit=s1),
        admin_s2=await make_user(session, roles=["admin"], unit=s2),
        worker_g1=await make_user(session, roles=["grid_worker"], unit=g1),
    )


_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_problem(r: Response, status: int, code: str) -> dict[str, Any]:
    """The response is a whole problem+json document (RFC 9457, API.md) with this status and
    stable code: type, title, status, code, a detail in the caller's language (Chinese unless
    `Accept-Language: en`) and a list of field errors, each exactly a field and a message."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(body), body
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"] == f"urn:grid:problem:{code}", body
    english = r.request.headers.get("accept-language", "").lower().startswith("en")
    for text in (body["title"], body["detail"]):
        assert isinstance(text, str) and text.strip(), body
        # English text may quote Chinese names (a tag's label), Chinese text always has some.
        assert _CHINESE.search(text) if not english else re.search("[A-Za-z]", text), body
    # The detail is this code's own message (its fixed text around the parameters).
    template = MESSAGES[code][1 if english else 0]
    for literal, *_ in string.Formatter().parse(template):
        assert literal in body["detail"], (literal, body)
    assert isinstance(body["errors"], list), body
    for error in body["errors"]:
        assert set(error) == {"field", "message"}, error
        assert isinstance(error["field"], str) and isinstance(error["message"], str), error
        assert error["message"].strip(), error
    return body

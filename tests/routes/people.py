"""Route table of the actual population, households and families (R-JUR-1), and the factories
their tests share: people, households and families created through the services."""

import itertools
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.id_numbers import check_char
from domain.people import Kind, Relation
from services import households, people
from services.clock import Clock
from services.households import GroupKind
from services.models import OrgUnit
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

GROUP_PATHS = {households.HOUSEHOLDS: "households", households.FAMILIES: "families"}
# Every person made here has a phone, so the masking sweep has one to look for (R-JUR-3).
PERSON_PHONE = "13987650001"
_serials = itertools.count(1)


def resident_id(
    born: date = date(1990, 5, 17), *, serial: int | None = None, region: str = "653101"
) -> str:
    """A valid 18-digit resident ID (GB 11643-1999); a fresh sequence number unless given
    (odd = male, even = female)."""
    sequence = next(_serials) % 1000 if serial is None else serial
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


async def make_person(
    session: AsyncSession,
    clock: Clock,
    grid: OrgUnit,
    *,
    kind: Kind = Kind.REGISTERED,
    **values: Any,
) -> dict[str, Any]:
    """A person registered through the service as the system (unmasked result)."""
    ctx = await system_ctx(session, clock)
    defaults: dict[str, Any] = {
        "name": "王小明",
        "phone": PERSON_PHONE,
        "no_house_reason": "借住亲友家",
    }
    if kind == Kind.OVERSEAS:
        defaults["details"] = {
            "nationality": "PAK",
            "document_type": "passport",
            "document_number": f"AB{next(_serials):07d}",
        }
    else:
        defaults["id_number"] = resident_id()
    if kind == Kind.UNSETTLED:
        defaults["details"] = {"reason": "持证未落"}
    return await people.create_person(ctx, grid_id=grid.id, kind=kind, values=defaults | values)


async def make_group(
    session: AsyncSession,
    clock: Clock,
    kind: GroupKind,
    grid: OrgUnit,
    *,
    head_person_id: Any = None,
    number: str | None = None,
) -> dict[str, Any]:
    """A household or family created through the service as the system."""
    ctx = await system_ctx(session, clock)
    return await households.create_group(
        ctx,
        kind,
        grid_id=grid.id,
        number=number or f"{next(_serials):09d}",
        head_person_id=head_person_id,
        address="喀什市人民路8号",
    )


async def add_member(
    session: AsyncSession,
    clock: Clock,
    kind: GroupKind,
    group_id: Any,
    person_id: Any,
    relation: Relation = Relation.SPOUSE,
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    return await households.add_member(
        ctx, kind, group_id, person_id=person_id, relation=relation, expected_version=None
    )


def _person_call(suffix: str = "", json: dict[str, Any] | None = None) -> Setup:
    """A request on a person of grid G1."""

    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        person = await make_person(session, clock, world.g1)
        return Call(f"/api/v1/people/{person['id']}{suffix}", json)

    return setup


async def _restore(session: AsyncSession, world: World, clock: Clock) -> Call:
    person = await make_person(session, clock, world.g1)
    ctx = await system_ctx(session, clock)
    await people.deregister_person(ctx, person["id"], reason="迁出", expected_version=None)
    return Call(f"/api/v1/people/{person['id']}/restore")


async def _settle(session: AsyncSession, world: World, clock: Clock) -> Call:
    person = await make_person(session, clock, world.g1, kind=Kind.UNSETTLED)
    return Call(f"/api/v1/people/{person['id']}/settle")


def _group_routes(kind: GroupKind) -> dict[tuple[str, str], Setup]:
    """The same matrix for households and families."""
    base = f"/api/v1/{GROUP_PATHS[kind]}"
    item = f"{base}/{{{kind.target_type}_id}}"
    number_field = kind.number_field

    async def group(session: AsyncSession, world: World, clock: Clock) -> str:
        return f"{base}/{(await make_group(session, clock, kind, world.g1))['id']}"

    async def with_two(session: AsyncSession, world: World, clock: Clock) -> tuple[str, str]:
        head = await make_person(session, clock, world.g1)
        other = await make_person(session, clock, world.g1)
        created = await make_group(session, clock, kind, world.g1, head_person_id=head["id"])
        await add_member(session, clock, kind, created["id"], other["id"])
        return f"{base}/{created['id']}", str(other["id"])

    async def get(session: AsyncSession, world: World, clock: Clock) -> Call:
        return Call(await group(session, world, clock))

    async def add(session: AsyncSession, world: World, clock: Clock) -> Call:
        person = await make_person(session, clock, world.g1)
        return Call(
            await group(session, world, clock) + "/members",
            {"person_id": str(person["id"]), "relation": "child"},
        )

    async def remove(session: AsyncSession, world: World, clock: Clock) -> Call:
        path, other = await with_two(session, world, clock)
        return Call(f"{path}/members/{other}")

    async def head(session: AsyncSession, world: World, clock: Clock) -> Call:
        path, other = await with_two(session, world, clock)
        return Call(f"{path}/head", {"person_id": other})

    async def renumber(session: AsyncSession, world: World, clock: Clock) -> Call:
        return Call(await group(session, world, clock) + "/renumber", {number_field: "R0000001"})

    return {
        ("POST", base): lambda w: Call(base, {"grid_id": str(w.g1.id), number_field: "N0000001"}),
        ("GET", item): get,
        ("DELETE", item): get,
        ("POST", f"{item}/members"): add,
        ("DELETE", f"{item}/members/{{person_id}}"): remove,
        ("POST", f"{item}/head"): head,
        ("POST", f"{item}/renumber"): renumber,
    }


async def _seed_people(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_person(session, clock, grid))["id"] for grid in (world.g1, world.g2)]


def _seed_groups(kind: GroupKind) -> Any:
    async def seed(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
        return [(await make_group(session, clock, kind, world.g1))["id"]]

    return seed


UNSCOPED = {
    ("GET", "/api/v1/people"),
    ("GET", "/api/v1/people/export"),
    *(
        (method, f"/api/v1/{path}{suffix}")
        for path in GROUP_PATHS.values()
        for method, suffix in (("GET", ""), ("GET", "/export"))
    ),
}

LISTS: list[ListEntry] = [
    ("/api/v1/people", _seed_people),
    *((f"/api/v1/{path}", _seed_groups(kind)) for kind, path in GROUP_PATHS.items()),
]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/people"): lambda w: Call(
        "/api/v1/people",
        {
            "grid_id": str(w.g1.id),
            "kind": "registered",
            "id_number": resident_id(),
            "name": "李四",
            "no_house_reason": "借住",
        },
    ),
    ("GET", "/api/v1/people/{person_id}"): _person_call(),
    ("PATCH", "/api/v1/people/{person_id}"): _person_call(json={"phone": "13812345678"}),
    ("POST", "/api/v1/people/{person_id}/deregister"): _person_call(
        "/deregister", {"reason": "迁出"}
    ),
    ("POST", "/api/v1/people/{person_id}/restore"): _restore,
    ("POST", "/api/v1/people/{person_id}/settle"): _settle,
    ("POST", "/api/v1/people/{person_id}/reveal"): _person_call("/reveal", {"reason": "入户核查"}),
    ("GET", "/api/v1/people/{person_id}/history"): _person_call("/history"),
    **_group_routes(households.HOUSEHOLDS),
    **_group_routes(households.FAMILIES),
}

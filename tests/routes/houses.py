"""Route table of standard addresses, houses and rentals (R-JUR-1), and the factories the
house tests share. Records are made in grid G1 (street S1) with real-looking personal data,
so the masking sweep has something to find."""

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from services import addresses, houses, rentals
from services.clock import Clock
from services.db import set_scope
from services.models import OrgUnit, Person
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# An active address's full text is unique: numbered in turn, never drawn at random.
_HOUSE_NUMBERS = itertools.count(1)
OWNER_ID = "653101198503152317"
OWNER_PHONE = "13899991234"
LANDLORD_ID = "653101197001011235"
LANDLORD_PHONE = "13677778888"
RESIDENT_PHONE = "15011112222"


def resident_id(serial: int, born: str = "19900101") -> str:
    """A valid 18-digit resident ID (GB 11643-1999) of Kashgar."""
    first17 = f"653101{born}{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


async def make_address(
    session: AsyncSession,
    clock: Clock,
    grid: OrgUnit,
    full_text: str | None = None,
    *,
    location: Point | None = None,
) -> dict[str, Any]:
    """A standard address created through the service as the system."""
    ctx = await system_ctx(session, clock)
    return await addresses.create_address(
        ctx,
        {
            "grid_id": grid.id,
            "full_text": full_text or f"喀什市人民路{next(_HOUSE_NUMBERS)}号",
            "location": location or Point(75.92, 39.42),
        },
    )


async def make_house(
    session: AsyncSession,
    clock: Clock,
    grid: OrgUnit,
    *,
    house_no: str | None = None,
    address_id: uuid.UUID | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A house created through the service as the system (unmasked result)."""
    ctx = await system_ctx(session, clock)
    values: dict[str, Any] = {
        "grid_id": grid.id,
        "house_no": house_no or f"H{uuid.uuid4().hex[:10]}",
        "owner_name": "张建国",
        "owner_id_number": OWNER_ID,
        "owner_phone": OWNER_PHONE,
        **fields,
    }
    if address_id is not None:
        values["address_id"] = address_id
    else:
        values.setdefault("address", "喀什市人民路1号")
    return await houses.create_house(ctx, values)


async def make_rental(
    session: AsyncSession, clock: Clock, house_id: uuid.UUID, **fields: Any
) -> dict[str, Any]:
    """A rental created through the service as the system (unmasked result)."""
    ctx = await system_ctx(session, clock)
    values = {
        "landlord_name": "李春花",
        "landlord_id_number": LANDLORD_ID,
        "landlord_phone": LANDLORD_PHONE,
        "rooms": 2,
        "hazard_level": "低",
        **fields,
    }
    return await rentals.create_rental(ctx, house_id, values)


async def make_resident(
    session: AsyncSession,
    grid: OrgUnit,
    house_id: uuid.UUID,
    *,
    name: str = "王小明",
    serial: int = 123,
    status: str = "active",
) -> Person:
    """A person living in the house, created directly (the population registry is another
    feature)."""
    await set_scope(session, "*")
    person = Person(
        grid_id=grid.id,
        path=grid.path,
        kind="registered",
        id_number=resident_id(serial),
        name=name,
        gender="male",
        phone=RESIDENT_PHONE,
        house_id=house_id,
        status=status,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    session.add(person)
    await session.flush()
    return person


async def _occupied_house(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    address = await make_address(session, clock, world.g1)
    house = await make_house(session, clock, world.g1, address_id=address["id"])
    await make_resident(session, world.g1, house["id"])
    return house


async def _rental(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    house = await _occupied_house(session, world, clock)
    return await make_rental(session, clock, house["id"])


async def deregistered(session: AsyncSession, clock: Clock, kind: str, record_id: Any) -> None:
    ctx = await system_ctx(session, clock)
    if kind == "address":
        await addresses.deregister_address(ctx, record_id, reason="拆除", expected_version=None)
    elif kind == "house":
        await houses.deregister_house(ctx, record_id, reason="拆除", expected_version=None)
    else:
        await rentals.deregister_rental(ctx, record_id, reason="不再出租", expected_version=None)


# --------------------------------------------------------------------------- setups


async def get_address(session: AsyncSession, world: World, clock: Clock) -> Call:
    return Call(f"/api/v1/addresses/{(await make_address(session, clock, world.g1))['id']}")


async def patch_address(session: AsyncSession, world: World, clock: Clock) -> Call:
    address = await make_address(session, clock, world.g1)
    return Call(f"/api/v1/addresses/{address['id']}", {"building": "1号楼"})


async def deregister_address(session: AsyncSession, world: World, clock: Clock) -> Call:
    address = await make_address(session, clock, world.g1)
    return Call(f"/api/v1/addresses/{address['id']}/deregister", {"reason": "拆除"})


async def restore_address(session: AsyncSession, world: World, clock: Clock) -> Call:
    address = await make_address(session, clock, world.g1)
    await deregistered(session, clock, "address", address["id"])
    return Call(f"/api/v1/addresses/{address['id']}/restore", {"reason": "误注销"})


async def address_history(session: AsyncSession, world: World, clock: Clock) -> Call:
    address = await make_address(session, clock, world.g1)
    return Call(f"/api/v1/addresses/{address['id']}/history")


async def building(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await _rental(session, world, clock)
    ctx = await system_ctx(session, clock)
    address_id = (await houses.get_house(ctx, house["house_id"]))["address_id"]
    return Call(f"/api/v1/addresses/{address_id}/building")


async def get_house(session: AsyncSession, world: World, clock: Clock) -> Call:
    return Call(f"/api/v1/houses/{(await _occupied_house(session, world, clock))['id']}")


async def reveal_house(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await _occupied_house(session, world, clock)
    return Call(f"/api/v1/houses/{house['id']}/reveal", {"reason": "核查产权"})


async def reveal_rental(session: AsyncSession, world: World, clock: Clock) -> Call:
    rental = await _rental(session, world, clock)
    return Call(f"/api/v1/rentals/{rental['id']}/reveal", {"reason": "核查租户"})


async def patch_house(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await make_house(session, clock, world.g1)
    return Call(f"/api/v1/houses/{house['id']}", {"room": "502"})


async def deregister_house(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await make_house(session, clock, world.g1)
    return Call(f"/api/v1/houses/{house['id']}/deregister", {"reason": "拆除"})


async def restore_house(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await make_house(session, clock, world.g1)
    await deregistered(session, clock, "house", house["id"])
    return Call(f"/api/v1/houses/{house['id']}/restore")


async def house_history(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await make_house(session, clock, world.g1)
    return Call(f"/api/v1/houses/{house['id']}/history")


async def create_rental(session: AsyncSession, world: World, clock: Clock) -> Call:
    house = await _occupied_house(session, world, clock)
    return Call(
        f"/api/v1/houses/{house['id']}/rental",
        {"landlord_name": "李春花", "landlord_phone": LANDLORD_PHONE, "hazard_level": "无"},
    )


async def get_rental(session: AsyncSession, world: World, clock: Clock) -> Call:
    return Call(f"/api/v1/rentals/{(await _rental(session, world, clock))['id']}")


async def patch_rental(session: AsyncSession, world: World, clock: Clock) -> Call:
    rental = await _rental(session, world, clock)
    return Call(f"/api/v1/rentals/{rental['id']}", {"hazard_level": "中"})


async def deregister_rental(session: AsyncSession, world: World, clock: Clock) -> Call:
    rental = await _rental(session, world, clock)
    return Call(f"/api/v1/rentals/{rental['id']}/deregister", {"reason": "不再出租"})


async def restore_rental(session: AsyncSession, world: World, clock: Clock) -> Call:
    rental = await _rental(session, world, clock)
    await deregistered(session, clock, "rental", rental["id"])
    return Call(f"/api/v1/rentals/{rental['id']}/restore", {"reason": "再次出租"})


async def rental_history(session: AsyncSession, world: World, clock: Clock) -> Call:
    rental = await _rental(session, world, clock)
    return Call(f"/api/v1/rentals/{rental['id']}/history")


SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/addresses"): lambda w: Call(
        "/api/v1/addresses", {"grid_id": str(w.g1.id), "full_text": "喀什市解放北路9号"}
    ),
    ("GET", "/api/v1/addresses/{address_id}"): get_address,
    ("PATCH", "/api/v1/addresses/{address_id}"): patch_address,
    ("POST", "/api/v1/addresses/{address_id}/deregister"): deregister_address,
    ("POST", "/api/v1/addresses/{address_id}/restore"): restore_address,
    ("GET", "/api/v1/addresses/{address_id}/history"): address_history,
    ("GET", "/api/v1/addresses/{address_id}/building"): building,
    ("POST", "/api/v1/houses"): lambda w: Call(
        "/api/v1/houses",
        {"grid_id": str(w.g1.id), "house_no": "S1-0001", "address": "喀什市解放北路9号"},
    ),
    ("GET", "/api/v1/houses/{house_id}"): get_house,
    ("PATCH", "/api/v1/houses/{house_id}"): patch_house,
    ("POST", "/api/v1/houses/{house_id}/deregister"): deregister_house,
    ("POST", "/api/v1/houses/{house_id}/reveal"): reveal_house,
    ("POST", "/api/v1/rentals/{rental_id}/reveal"): reveal_rental,
    ("POST", "/api/v1/houses/{house_id}/restore"): restore_house,
    ("GET", "/api/v1/houses/{house_id}/history"): house_history,
    ("POST", "/api/v1/houses/{house_id}/rental"): create_rental,
    ("GET", "/api/v1/rentals/{rental_id}"): get_rental,
    ("PATCH", "/api/v1/rentals/{rental_id}"): patch_rental,
    ("POST", "/api/v1/rentals/{rental_id}/deregister"): deregister_rental,
    ("POST", "/api/v1/rentals/{rental_id}/restore"): restore_rental,
    ("GET", "/api/v1/rentals/{rental_id}/history"): rental_history,
}

UNSCOPED = {
    ("GET", "/api/v1/addresses"),
    ("GET", "/api/v1/addresses/export"),
    ("GET", "/api/v1/houses"),
    ("GET", "/api/v1/houses/export"),
    ("GET", "/api/v1/rentals"),
    ("GET", "/api/v1/rentals/export"),
}


async def _seed_addresses(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_address(session, clock, world.g1))["id"]]


async def _seed_houses(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _occupied_house(session, world, clock))["id"]]


async def _seed_rentals(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _rental(session, world, clock))["id"]]


LISTS: list[ListEntry] = [
    ("/api/v1/addresses", _seed_addresses),
    ("/api/v1/houses", _seed_houses),
    ("/api/v1/rentals", _seed_rentals),
]

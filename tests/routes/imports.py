"""Route table of imports, the import pool and comparisons (R-JUR-1, R-IMP-1, R-IMP-2,
R-CMP-2), and the factories their tests share: imports sit at the district they were
addressed to (D here, above both streets, so a street's user does not see them); pool rows at
the grid their file named (G1); comparisons at the unit compared (S1)."""

import io
import uuid
from typing import Any

from arq.worker import Worker
from sqlalchemy.ext.asyncio import AsyncSession

from domain.imports import TEMPLATES
from domain.people import Kind
from services import compare
from services.clock import Clock
from services.models import Import, ImportRow, OrgUnit
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup
from tests.routes.people import PERSON_PHONE, make_person, resident_id
from workers.queue import deserialize, redis_settings, serialize
from workers.settings import WorkerSettings, shutdown, startup

URL = "/api/v1/imports"
POOL = "/api/v1/import-pool"
COMPARE = "/api/v1/comparisons"
REGISTRY = "people_registered"


def template_row(**cells: str) -> list[str]:
    """A row of the registered-people template from cells by column key."""
    by_key = {c.key: c.header for c in TEMPLATES[REGISTRY].columns}
    named = {by_key[k]: v for k, v in cells.items()}
    return [named.get(h, "") for h in TEMPLATES[REGISTRY].headers]


async def burst_worker() -> None:
    """A real arq worker on the tests' Redis, until the queue is empty."""
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(),
        job_serializer=serialize,
        job_deserializer=deserialize,
        on_startup=startup,
        on_shutdown=shutdown,
        burst=True,
        poll_delay=0.05,
    )
    try:
        await worker.main()
    finally:
        await worker.close()


def csv_file(rows: list[list[str]], *, headers: list[str] | None = None) -> bytes:
    """A UTF-8 CSV (with the BOM Excel writes) of the registered-people template."""
    head = headers or TEMPLATES[REGISTRY].headers
    lines = [",".join(head), *(",".join(r) for r in rows)]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


async def make_import(
    session: AsyncSession, clock: Clock, district: OrgUnit, *, state: str = "queued"
) -> Import:
    """An import row as an upload leaves it (no file behind it)."""
    await system_ctx(session, clock)
    record = Import(
        id=uuid.uuid4(),
        registry_code=REGISTRY,
        district_id=district.id,
        path=district.path,
        filename="people.csv",
        format="csv",
        state=state,
        size_bytes=100,
        created_at=clock.now(),
    )
    session.add(record)
    await session.flush()
    return record


async def make_pool_row(
    session: AsyncSession, clock: Clock, world: World, **values: Any
) -> ImportRow:
    """A row of a finished import in G1's pool."""
    record = await make_import(session, clock, world.district, state="done")
    values = {"name": "李四", "id_number": resident_id(), "phone": PERSON_PHONE, **values}
    row = ImportRow(
        id=uuid.uuid4(),
        import_id=record.id,
        row_no=2,
        registry_code=REGISTRY,
        district_id=world.district.id,
        grid_id=world.g1.id,
        path=world.g1.path,
        name=values["name"],
        id_number=values["id_number"],
        values=values,
    )
    session.add(row)
    await session.flush()
    return row


def _on_import(suffix: str = "", json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        record = await make_import(session, clock, world.district)
        return Call(f"{URL}/{record.id}{suffix}", json)

    return setup


def _on_row(suffix: str = "", json: dict[str, Any] | None = None, *, twin: bool = False) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        row = await make_pool_row(session, clock, world, no_house_reason="借住")
        if twin:
            await make_person(
                session, clock, world.g1, kind=Kind.REGISTERED, id_number=row.id_number
            )
        body = {"grid_id": str(world.g1.id)} if twin else json
        return Call(f"{POOL}/{row.id}{suffix}", body)

    return setup


async def _claim(session: AsyncSession, world: World, clock: Clock) -> Call:
    row = await make_pool_row(session, clock, world, no_house_reason="借住")
    return Call(f"{POOL}/claims", {"grid_id": str(world.g1.id), "row_ids": [str(row.id)]})


def _upload(world: World) -> Call:
    return Call(
        URL,
        data={"registry": REGISTRY, "district_id": str(world.district.id)},
        files={"file": ("people.csv", csv_file([["", "张三"]]), "text/csv")},
    )


def _compare_upload(world: World) -> Call:
    return Call(
        COMPARE,
        data={"registry": REGISTRY, "unit_id": str(world.s1.id), "source": "公安局"},
        files={"file": ("people.csv", csv_file([["", "张三"]]), "text/csv")},
    )


async def make_comparison(
    session: AsyncSession, clock: Clock, unit: OrgUnit, body: bytes, source: str = "公安局"
) -> dict[str, Any]:
    """A comparison of a CSV with the unit's registered people, run as the system."""
    ctx = await system_ctx(session, clock)
    return await compare.run_comparison(
        ctx,
        registry=REGISTRY,
        unit_id=unit.id,
        source=source,
        filename="people.csv",
        upload=io.BytesIO(body),
    )


def _on_comparison(suffix: str = "") -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        await make_person(session, clock, world.g1)
        record = await make_comparison(session, clock, world.s1, csv_file([]))
        return Call(f"{COMPARE}/{record['id']}{suffix}")

    return setup


async def _seed_comparisons(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_comparison(session, clock, world.s1, csv_file([])))["id"]]


async def _seed_imports(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_import(session, clock, world.district)).id]


async def _seed_pool(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_pool_row(session, clock, world)).id]


UNSCOPED = {
    ("GET", f"{URL}/templates"),
    ("GET", f"{URL}/templates/{{registry}}"),
    ("GET", URL),
    ("GET", f"{URL}/export"),
    ("GET", POOL),
    ("GET", f"{POOL}/export"),
    ("GET", COMPARE),
    ("GET", f"{COMPARE}/export"),
}

LISTS: list[ListEntry] = [
    (URL, _seed_imports),
    (POOL, _seed_pool),
    (COMPARE, _seed_comparisons),
]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", URL): _upload,
    ("GET", f"{URL}/{{import_id}}"): _on_import(),
    ("POST", f"{URL}/{{import_id}}/cancel"): _on_import("/cancel"),
    ("GET", f"{URL}/{{import_id}}/rejections"): _on_import("/rejections"),
    ("GET", f"{URL}/{{import_id}}/rejections/export"): _on_import("/rejections/export"),
    ("POST", f"{POOL}/claims"): _claim,
    ("GET", f"{POOL}/{{row_id}}"): _on_row(),
    ("PATCH", f"{POOL}/{{row_id}}"): _on_row("", {"values": {"phone": "13800001111"}}),
    ("POST", f"{POOL}/{{row_id}}/merge"): _on_row("/merge", twin=True),
    ("POST", f"{POOL}/{{row_id}}/skip"): _on_row("/skip"),
    ("POST", COMPARE): _compare_upload,
    ("GET", f"{COMPARE}/{{comparison_id}}"): _on_comparison(),
    ("GET", f"{COMPARE}/{{comparison_id}}/lines"): _on_comparison("/lines"),
    ("GET", f"{COMPARE}/{{comparison_id}}/lines/export"): _on_comparison("/lines/export"),
}

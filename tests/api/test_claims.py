"""Claiming from the import pool (R-IMP-2) by grid staff, and organisation rows, inside the
rolled-back world: pool rows of finished imports are made directly."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from domain.imports import TEMPLATES, check_row
from services.imports import PENDING
from services.models import ImportRow
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.imports import POOL, csv_file, make_import, make_pool_row
from tests.routes.people import make_person


async def test_grid_staff_claim_the_rows_filed_to_their_grid_r_imp_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    mine = await make_pool_row(session, clock, world, no_house_reason="借住")
    headers = auth(world.worker_g1, clock)
    listed = (await client.get(POOL, headers=headers)).json()
    assert [i["id"] for i in listed["items"]] == [str(mine.id)]
    # Masked for a worker without pii:read (R-JUR-3).
    assert listed["items"][0]["id_number"] != mine.id_number
    assert listed["items"][0]["values"]["id_number"] != mine.id_number

    # A grid outside the worker's jurisdiction does not exist for them.
    elsewhere = await client.post(
        f"{POOL}/claims",
        json={"grid_id": str(world.g2.id), "row_ids": [str(mine.id)]},
        headers=headers,
    )
    assert elsewhere.status_code == 404
    claimed = await client.post(
        f"{POOL}/claims",
        json={"grid_id": str(world.g1.id), "row_ids": [str(mine.id)]},
        headers=headers,
    )
    assert claimed.status_code == 200, claimed.text
    assert [s["row_id"] for s in claimed.json()["succeeded"]] == [str(mine.id)]
    after = await client.get(POOL, params={"claimed": "true"}, headers=headers)
    assert [(i["id"], i["claimed"]) for i in after.json()["items"]] == [(str(mine.id), "claimed")]


async def test_rows_of_unfinished_imports_are_not_in_the_pool_r_imp_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    running = await make_import(session, clock, world.district, state="running")
    row = ImportRow(
        import_id=running.id,
        row_no=2,
        registry_code=running.registry_code,
        district_id=world.district.id,
        grid_id=world.g1.id,
        path=f"{PENDING}.{world.g1.path}",
        name="未完成",
        values={"name": "未完成"},
    )
    session.add(row)
    await session.flush()
    headers = auth(world.admin_d, clock)
    assert (await client.get(POOL, headers=headers)).json()["total"] == 0
    claim = await client.post(
        f"{POOL}/claims",
        json={"grid_id": str(world.g1.id), "row_ids": [str(row.id)]},
        headers=headers,
    )
    assert claim.json()["failed"] == [
        {"row_id": str(row.id), "reason": "not_found", "errors": None, "existing": None}
    ]


async def test_an_organisation_row_becomes_an_organisation_r_imp_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    record = await make_import(session, clock, world.district, state="done")
    record.registry_code = "organisations_social"
    row = ImportRow(
        import_id=record.id,
        row_no=2,
        registry_code="organisations_social",
        district_id=world.district.id,
        path=world.district.path,
        name="老年协会",
        values={"name": "老年协会", "org_type": "社会团体", "phone": "13800001234"},
    )
    session.add(row)
    await session.flush()
    headers = auth(world.admin_d, clock)
    claimed = await client.post(
        f"{POOL}/claims",
        json={"grid_id": str(world.g1.id), "row_ids": [str(row.id)]},
        headers=headers,
    )
    assert claimed.status_code == 200, claimed.text
    result = claimed.json()
    assert result["failed"] == [], result
    made = await client.get(
        f"/api/v1/organisations/{result['succeeded'][0]['record_id']}", headers=headers
    )
    assert (made.json()["name"], made.json()["category"]) == ("老年协会", "social")


async def test_a_released_prisoner_file_becomes_tags_and_only_that_template_fits_r_imp_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    template = TEMPLATES["tags_released_prisoner"]
    # The kind's own fields, titled by its details model.
    assert template.headers[-4:] == ["释放日期", "原罪名", "原判刑期", "帮教人员"]
    headers = auth(world.admin_d, clock)
    wrong = await client.post(
        "/api/v1/imports",
        data={"registry": "tags_released_prisoner", "district_id": str(world.district.id)},
        files={"file": ("people.csv", csv_file([]), "text/csv")},
        headers=headers,
    )
    body = assert_problem(wrong, 422, "import_columns_mismatch")
    assert "释放日期" in body["missing_columns"] and "民族" in body["unexpected_columns"]

    person = await make_person(session, clock, world.g1, name="钱多")
    cells = {
        "name": "钱多",
        "id_number": person["id_number"],
        "release_date": "2024/5/1",
        "original_crime": "盗窃",
        "sentence": "三年",
        "helpers": "李四、王五",
    }
    check = check_row(template, cells, today=clock.now().date())
    assert check.errors == []
    record = await make_import(session, clock, world.district, state="done")
    row = ImportRow(
        import_id=record.id,
        row_no=2,
        registry_code=template.registry,
        district_id=world.district.id,
        grid_id=world.g1.id,
        path=world.g1.path,
        name="钱多",
        id_number=person["id_number"],
        values=check.values,
    )
    session.add(row)
    await session.flush()
    claimed = await client.post(
        f"{POOL}/claims",
        json={"grid_id": str(world.g1.id), "row_ids": [str(row.id)]},
        headers=headers,
    )
    result = claimed.json()
    assert result["failed"] == [], result
    tag = await client.get(f"/api/v1/tags/{result['succeeded'][0]['record_id']}", headers=headers)
    assert tag.json()["person_id"] == str(person["id"])
    assert tag.json()["details"]["helpers"] == ["李四", "王五"]
    assert tag.json()["details"]["release_date"] == "2024-05-01"

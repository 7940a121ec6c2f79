"""Imports (R-IMP-1) and claiming from the import pool (R-IMP-2) through the API.

Refusals are checked inside the rolled-back world; the background job reads files with its
own sessions, so the rest runs on a committed territory of its own (Hami, 650502), cleared
afterwards."""

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import xlsxwriter
from arq.constants import default_queue_name, job_key_prefix
from fastapi import FastAPI
from httpx import AsyncClient
from python_calamine import CalamineWorkbook

from domain.imports import TEMPLATES
from services import imports
from tests import territory
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.imports import REGISTRY, URL, burst_worker, csv_file
from tests.routes.imports import template_row as row
from tests.routes.people import resident_id
from tests.territory import SUPERUSER_DSN, ImportTerritory, import_territory
from workers.imports import requeue_imports
from workers.queue import create_pool

REGION = "650502"
POOL = "/api/v1/import-pool"
HEADERS = TEMPLATES[REGISTRY].headers
real_client = territory.real_client


def upload(district_id: Any, body: bytes, filename: str = "people.csv") -> dict[str, Any]:
    return {
        "data": {"registry": REGISTRY, "district_id": str(district_id)},
        "files": {"file": (filename, body, "application/octet-stream")},
    }


# Refusals: the whole file, nothing written.


async def test_templates_carry_the_registry_columns_with_chinese_headers_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    listed = (await client.get(f"{URL}/templates", headers=headers)).json()
    registries = {t["registry"] for t in listed}
    assert {"people_registered", "people_overseas", "organisations_social"} <= registries
    floating = next(t for t in listed if t["registry"] == "people_floating")
    # The kind's own fields come from its details model.
    assert {"暂住证号", "流入日期", "房东"} <= {c["header"] for c in floating["columns"]}

    as_csv = await client.get(
        f"{URL}/templates/{REGISTRY}", params={"format": "csv"}, headers=headers
    )
    assert as_csv.status_code == 200
    assert next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")))) == HEADERS

    as_xlsx = await client.get(f"{URL}/templates/{REGISTRY}", headers=headers)
    book = CalamineWorkbook.from_filelike(io.BytesIO(as_xlsx.content))
    assert book.get_sheet_by_index(0).to_python()[0] == HEADERS

    unknown = await client.get(f"{URL}/templates/nothing", headers=headers)
    assert_problem(unknown, 422, "registry_unknown")


@pytest.mark.parametrize(
    ("filename", "body", "code"),
    [
        ("people.csv", b"", "import_file_empty"),
        ("people.csv", b"\n\n", "import_file_empty"),
        ("people.csv", b"\x81\xff\xfe\x80\x00\x9f" * 50, "import_encoding_invalid"),
        ("people.txt", b"a,b\n", "import_format_unsupported"),
        ("people.xml", b"<rows><row><oops></row>", "import_file_unreadable"),
        ("people.xlsx", b"not a workbook", "import_file_unreadable"),
    ],
)
async def test_bad_files_are_refused_whole_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock, filename: str, body: bytes, code: str
) -> None:
    r = await client.post(
        URL, headers=auth(world.admin_d, clock), **upload(world.district.id, body, filename)
    )
    assert_problem(r, 422, code)
    listed = await client.get(URL, headers=auth(world.admin_d, clock))
    assert listed.json()["total"] == 0


async def test_wrong_columns_refuse_the_file_naming_what_differs_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """A released-prisoner or any other template goes only to its registry: the columns
    missing and those beyond the template are named."""
    wrong = [h for h in HEADERS if h != "民族"] + ["刑满释放日期"]
    r = await client.post(
        URL,
        headers={**auth(world.admin_d, clock), "Accept-Language": "en"},
        **upload(world.district.id, csv_file([], headers=wrong)),
    )
    body = assert_problem(r, 422, "import_columns_mismatch")
    assert body["missing_columns"] == ["民族"]
    assert body["unexpected_columns"] == ["刑满释放日期"]
    assert {e["field"] for e in body["errors"]} == {"民族", "刑满释放日期"}


def _workbook(rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for number, cells in enumerate(rows):
        sheet.write_row(number, 0, cells)
    book.close()
    return out.getvalue()


async def test_a_workbook_is_refused_from_its_header_row_with_nothing_written_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """The upload's check reads an XLSX header row as a stream; its refusals are the same
    problems as for any file, and nothing is stored."""
    wrong = [h for h in HEADERS if h != "民族"] + ["刑满释放日期"]
    headers = auth(world.admin_d, clock)
    r = await client.post(
        URL, headers=headers, **upload(world.district.id, _workbook([wrong]), "people.xlsx")
    )
    body = assert_problem(r, 422, "import_columns_mismatch")
    assert body["missing_columns"] == ["民族"]
    assert body["unexpected_columns"] == ["刑满释放日期"]
    empty = await client.post(
        URL, headers=headers, **upload(world.district.id, _workbook([[""]]), "people.xlsx")
    )
    assert_problem(empty, 422, "import_file_empty")
    listed = await client.get(URL, headers=headers)
    assert listed.json()["total"] == 0
    accepted = await client.post(
        URL, headers=headers, **upload(world.district.id, _workbook([HEADERS]), "people.xlsx")
    )
    assert accepted.status_code == 202, accepted.text


async def test_an_import_goes_to_a_district_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        URL, headers=auth(world.admin_d, clock), **upload(world.s1.id, csv_file([]))
    )
    assert_problem(r, 422, "import_needs_district")
    # A grid worker holds no import permission.
    denied = await client.post(
        URL, headers=auth(world.worker_g1, clock), **upload(world.district.id, csv_file([]))
    )
    assert_problem(denied, 403, "permission_denied")


# The job, the pool and claims on a committed territory.


Place = ImportTerritory


@pytest.fixture
async def place(app: FastAPI, clock: MovableClock) -> AsyncIterator[Place]:
    async with import_territory(app, clock, region=REGION, west=93.0, south=42.5) as found:
        yield found


async def _run(app: FastAPI, clock: MovableClock, import_id: str) -> str:
    return await imports.run_import(app.state.sessionmaker, clock, uuid.UUID(import_id))


async def _imported(
    client: AsyncClient, app: FastAPI, clock: MovableClock, place: Place, body: bytes, name: str
) -> dict[str, Any]:
    r = await client.post(URL, headers=place.headers, **upload(place.district_id, body, name))
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "queued"
    assert await _run(app, clock, r.json()["id"]) == "done"
    done = await client.get(f"{URL}/{r.json()['id']}", headers=place.headers)
    return dict(done.json())


async def test_import_checks_each_row_and_claims_into_the_grid_r_imp_1_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, place: Place
) -> None:
    born = date(1985, 3, 9)
    good, twin, existing, lacking = (resident_id(born, region=REGION) for _ in range(4))
    rows = [
        row(grid_code=place.grid_code, name="张三", id_number=good, no_house_reason="借住"),
        # The same person twice in the file: one in the pool's eyes (R-IMP-2).
        row(grid_code=place.grid_code, name="李四", id_number=twin, no_house_reason="借住"),
        row(grid_code=place.grid_code, name="李四", id_number=twin, no_house_reason="借住"),
        # No reason for having no house: kept, but the claim reports it incomplete.
        row(grid_code=place.grid_code, name="王五", id_number=lacking),
        row(grid_code=place.grid_code, name="赵六", id_number=existing, no_house_reason="借住"),
        # Rejected: a bad check digit, a date that is none, neither ID nor name, a grid
        # outside the district.
        row(name="坏号", id_number=good[:-1] + ("0" if good[-1] != "0" else "1")),
        row(name="坏日期", birth_date="1990-13-40"),
        row(phone="13900001111"),
        row(grid_code="650502009009009", name="外网格"),
    ]
    # GBK, as Chinese spreadsheets save CSV, without a byte-order mark.
    body = "\n".join(",".join(r) for r in [HEADERS, *rows]).encode("gb18030")
    done = await _imported(real_client, app, clock, place, body, "人口.csv")
    assert (done["state"], done["percent"]) == ("done", 100.0)
    assert (done["rows_read"], done["rows_accepted"], done["rows_rejected"]) == (9, 5, 4)

    rejected = await real_client.get(f"{URL}/{done['id']}/rejections", headers=place.headers)
    lines = {(x["row_no"], x["field"], x["reason"]) for x in rejected.json()["items"]}
    assert lines == {
        (7, "id_number", "id_number_checksum"),
        (8, "birth_date", "field_invalid"),
        (9, "name", "identity_required"),
        (10, "grid_code", "grid_not_in_district"),
    }
    assert rejected.json()["items"][0]["header"] == "证件号码"

    pool = (
        await real_client.get(POOL, params={"import_id": done["id"]}, headers=place.headers)
    ).json()
    assert pool["total"] == 5
    by_name: dict[str, list[str]] = {}
    for item in pool["items"]:
        by_name.setdefault(item["name"], []).append(item["id"])

    # An active record of 赵六 exists already in the grid.
    person = await real_client.post(
        "/api/v1/people",
        json={
            "grid_id": str(place.data.grid_id),
            "kind": "registered",
            "name": "赵六",
            "id_number": existing,
            "no_house_reason": "原有记录",
        },
        headers=place.headers,
    )
    assert person.status_code == 201, person.text

    claim = await real_client.post(
        f"{POOL}/claims",
        json={
            "grid_id": str(place.data.grid_id),
            "row_ids": [
                by_name["张三"][0],
                by_name["李四"][0],
                by_name["王五"][0],
                by_name["赵六"][0],
            ],
        },
        headers=place.headers,
    )
    assert claim.status_code == 200, claim.text
    result = claim.json()
    assert {s["row_id"] for s in result["succeeded"]} == {by_name["张三"][0], by_name["李四"][0]}
    twin_claim = next(s for s in result["succeeded"] if s["row_id"] == by_name["李四"][0])
    assert twin_claim["with"] == [by_name["李四"][1]]
    failed = {f["row_id"]: f for f in result["failed"]}
    assert failed[by_name["王五"][0]]["reason"] == "incomplete"
    assert any(e["field"] == "no_house_reason" for e in failed[by_name["王五"][0]]["errors"])
    duplicate = failed[by_name["赵六"][0]]
    assert duplicate["reason"] == "duplicate"
    assert duplicate["existing"]["record_id"] == person.json()["id"]
    side = {f["field"]: f for f in duplicate["existing"]["fields"]}
    assert side["no_house_reason"]["row"] == "借住"
    assert side["no_house_reason"]["record"] == "原有记录"
    assert side["no_house_reason"]["differs"] is True

    # Claimed rows left the pool, the twin with its row; a row is claimed once.
    left = (
        await real_client.get(POOL, params={"import_id": done["id"]}, headers=place.headers)
    ).json()
    assert {i["name"] for i in left["items"]} == {"王五", "赵六"}
    again = await real_client.post(
        f"{POOL}/claims",
        json={"grid_id": str(place.data.grid_id), "row_ids": [by_name["李四"][1]]},
        headers=place.headers,
    )
    assert again.json()["failed"][0]["reason"] == "claimed"

    # Incomplete: fix, then claim.
    row_id = by_name["王五"][0]
    current = await real_client.get(f"{POOL}/{row_id}", headers=place.headers)
    bad_fix = await real_client.patch(
        f"{POOL}/{row_id}",
        json={"values": {"phone": "12"}},
        headers={**place.headers, "If-Match": current.headers["etag"]},
    )
    assert_problem(bad_fix, 422, "validation_failed")
    stale = await real_client.patch(
        f"{POOL}/{row_id}",
        json={"values": {"no_house_reason": "集体宿舍"}},
        headers={**place.headers, "If-Match": '"99"'},
    )
    assert stale.status_code == 412
    fixed = await real_client.patch(
        f"{POOL}/{row_id}",
        json={"values": {"no_house_reason": "集体宿舍"}},
        headers={**place.headers, "If-Match": current.headers["etag"]},
    )
    assert fixed.status_code == 200, fixed.text
    claimed = await real_client.post(
        f"{POOL}/claims",
        json={"grid_id": str(place.data.grid_id), "row_ids": [row_id]},
        headers=place.headers,
    )
    assert [s["row_id"] for s in claimed.json()["succeeded"]] == [row_id]
    created = await real_client.get(
        f"/api/v1/people/{claimed.json()['succeeded'][0]['record_id']}", headers=place.headers
    )
    assert (created.json()["name"], created.json()["id_number"]) == ("王五", lacking)
    assert created.json()["no_house_reason"] == "集体宿舍"

    # Duplicate: merge the row into the record.
    merged = await real_client.post(
        f"{POOL}/{by_name['赵六'][0]}/merge",
        json={"grid_id": str(place.data.grid_id)},
        headers=place.headers,
    )
    assert merged.status_code == 200, merged.text
    record = await real_client.get(f"/api/v1/people/{person.json()['id']}", headers=place.headers)
    assert record.json()["no_house_reason"] == "借住"
    gone = await real_client.post(f"{POOL}/{by_name['赵六'][0]}/skip", headers=place.headers)
    assert_problem(gone, 409, "import_row_claimed")

    history = await real_client.get(
        "/api/v1/audit", params={"target_type": "import_row"}, headers=place.headers
    )
    actions = {e["action"] for e in history.json()["items"]}
    assert {"import_row.claim", "import_row.update", "import_row.merge"} <= actions


async def test_xml_and_xlsx_with_merged_cells_are_read_r_imp_1(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, place: Place, tmp_path: Path
) -> None:
    number = resident_id(date(1990, 1, 1), region=REGION)
    xml = (
        "<rows>"
        + "".join(
            "<row>"
            + "".join(f"<{h}>{v}</{h}>" for h, v in zip(HEADERS, cells, strict=True))
            + "</row>"
            for cells in (row(name="甲", id_number=number), row(name="乙"))
        )
        + "</rows>"
    )
    done = await _imported(real_client, app, clock, place, xml.encode(), "people.xml")
    assert (done["rows_read"], done["rows_accepted"]) == (2, 2)

    path = tmp_path / "people.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(1, 0, row(name="丙", ethnicity="汉族"))
    # The address cell merged over two rows: only the first row carries its value.
    column = HEADERS.index("现住地址")
    sheet.merge_range(1, column, 2, column, "幸福路1号")
    sheet.write_row(2, 0, row(name="丁")[:column])
    sheet.write_number(3, HEADERS.index("证件号码"), 12345)  # a number, not an ID
    sheet.write_string(3, HEADERS.index("姓名"), "戊")
    book.close()
    done = await _imported(real_client, app, clock, place, path.read_bytes(), "people.xlsx")
    assert (done["rows_read"], done["rows_accepted"], done["rows_rejected"]) == (3, 2, 1)
    pool = (
        await real_client.get(POOL, params={"import_id": done["id"]}, headers=place.headers)
    ).json()
    addresses = {i["name"]: i["values"].get("current_address") for i in pool["items"]}
    assert addresses == {"丙": "幸福路1号", "丁": None}


async def test_a_cancelled_import_leaves_nothing_to_claim_r_imp_1(
    real_client: AsyncClient,
    app: FastAPI,
    clock: MovableClock,
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports, "BATCH", 10)
    body = csv_file([row(name=f"人{i}") for i in range(50)])
    r = await real_client.post(URL, headers=place.headers, **upload(place.district_id, body))
    import_id = r.json()["id"]
    real_file_batch = imports._file_batch
    batches = 0

    async def cancel_after_first(*args: Any) -> bool:
        nonlocal batches
        batches += 1
        if batches == 2:
            cancelled = await real_client.post(f"{URL}/{import_id}/cancel", headers=place.headers)
            assert cancelled.status_code == 200, cancelled.text
        return await real_file_batch(*args)

    monkeypatch.setattr(imports, "_file_batch", cancel_after_first)
    assert await _run(app, clock, import_id) == "cancelled"
    shown = (await real_client.get(f"{URL}/{import_id}", headers=place.headers)).json()
    assert shown["state"] == "cancelled"
    assert shown["rows_read"] == 10  # the first batch, then the cancellation
    pool = await real_client.get(POOL, params={"import_id": import_id}, headers=place.headers)
    assert pool.json()["total"] == 0
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM import_rows WHERE import_id = $1", uuid.UUID(import_id)
            )
            == 0
        )
    finally:
        await conn.close()
    over = await real_client.post(f"{URL}/{import_id}/cancel", headers=place.headers)
    assert_problem(over, 409, "import_finished")


async def test_racing_claims_of_one_row_one_wins_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, place: Place
) -> None:
    number = resident_id(date(1979, 6, 1), region=REGION)
    body = csv_file([row(name="钱七", id_number=number, no_house_reason="借住")])
    done = await _imported(real_client, app, clock, place, body, "people.csv")
    pool = await real_client.get(POOL, params={"import_id": done["id"]}, headers=place.headers)
    row_id = pool.json()["items"][0]["id"]

    async def claim() -> dict[str, Any]:
        r = await real_client.post(
            f"{POOL}/claims",
            json={"grid_id": str(place.data.grid_id), "row_ids": [row_id]},
            headers=place.headers,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    results = await asyncio.gather(claim(), claim())
    assert sorted(len(r["succeeded"]) for r in results) == [0, 1]
    loser = next(r for r in results if not r["succeeded"])
    assert loser["failed"][0]["reason"] in {"claimed", "not_found"}
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        assert await conn.fetchval("SELECT count(*) FROM people WHERE id_number = $1", number) == 1
    finally:
        await conn.close()


async def test_the_arq_worker_runs_the_import_job_r_imp_1(
    real_client: AsyncClient, place: Place
) -> None:
    """The upload enqueues the job after its commit; a real worker on the tests' Redis reads
    the file."""
    body = csv_file([row(name="孙八"), row(name="周九")])
    r = await real_client.post(URL, headers=place.headers, **upload(place.district_id, body))
    assert r.status_code == 202
    await burst_worker()
    shown = (await real_client.get(f"{URL}/{r.json()['id']}", headers=place.headers)).json()
    assert (shown["state"], shown["rows_accepted"]) == ("done", 2)


async def test_an_upload_whose_job_was_lost_is_enqueued_again_r_imp_1(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, place: Place
) -> None:
    """The import row is what must not be lost: the cron enqueues every import still queued,
    once (the job id is the import's)."""
    r = await real_client.post(
        URL, headers=place.headers, **upload(place.district_id, csv_file([row(name="吴十")]))
    )
    import_id = r.json()["id"]
    pool = await create_pool()
    try:
        # Redis lost the job the upload enqueued.
        await pool.delete(job_key_prefix + imports.job_id(uuid.UUID(import_id)))
        await pool.zrem(default_queue_name, imports.job_id(uuid.UUID(import_id)))
        ctx = {"redis": pool, "sessionmaker": app.state.sessionmaker, "clock": clock}
        first = await requeue_imports(ctx)
        queued = await imports.queued_imports(app.state.sessionmaker)
        assert import_id in [str(i) for i, _ in queued]
        assert first["enqueued"] >= 1
        again = await requeue_imports(ctx)
        assert again["enqueued"] == 0  # already waiting
        await burst_worker()
    finally:
        await pool.aclose()
    shown = (await real_client.get(f"{URL}/{import_id}", headers=place.headers)).json()
    assert (shown["state"], shown["rows_accepted"]) == ("done", 1)


class WorkerDied(BaseException):
    """The worker process going away mid-run: nothing after it runs (no `except`, no
    closing of the import)."""


async def _died_after_first_batch(
    real_client: AsyncClient,
    app: FastAPI,
    clock: MovableClock,
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """An import of 50 rows (batches of 10) whose worker died after filing the first batch:
    left `running` with a heartbeat from then."""
    monkeypatch.setattr(imports, "BATCH", 10)
    body = csv_file([row(name=f"人{i}") for i in range(50)])
    r = await real_client.post(URL, headers=place.headers, **upload(place.district_id, body))
    import_id = str(r.json()["id"])
    real_file_batch = imports._file_batch
    batches = 0

    async def die_at_second(*args: Any) -> bool:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise WorkerDied
        return await real_file_batch(*args)

    monkeypatch.setattr(imports, "_file_batch", die_at_second)
    with pytest.raises(WorkerDied):
        await _run(app, clock, import_id)
    monkeypatch.setattr(imports, "_file_batch", real_file_batch)
    return import_id


async def _pool_rows(import_id: str) -> int:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM import_rows WHERE import_id = $1", uuid.UUID(import_id)
            )
        )
    finally:
        await conn.close()


async def audit_actions(import_id: str) -> list[str]:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        rows = await conn.fetch(
            "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", import_id
        )
        return [row["action"] for row in rows]
    finally:
        await conn.close()


async def test_an_import_whose_worker_died_is_run_again_once_r_imp_1(
    real_client: AsyncClient,
    app: FastAPI,
    clock: MovableClock,
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A running import whose heartbeat stopped: within the limit the cron leaves it; past
    it the cron clears what the lost run filed and queues it again under a new job id; a
    real worker runs it to the end — every row filed once, none from the lost run."""
    import_id = await _died_after_first_batch(real_client, app, clock, place, monkeypatch)
    shown = (await real_client.get(f"{URL}/{import_id}", headers=place.headers)).json()
    assert (shown["state"], shown["rows_read"]) == ("running", 10)
    assert await _pool_rows(import_id) == 10
    pool = await create_pool()
    try:
        ctx = {"redis": pool, "sessionmaker": app.state.sessionmaker, "clock": clock}
        clock.advance(imports.STALLED_AFTER - timedelta(seconds=1))
        alive = await requeue_imports(ctx)
        assert (alive["requeued"], alive["failed"]) == (0, 0)
        clock.advance(timedelta(seconds=2))
        taken = await requeue_imports(ctx)
        assert (taken["requeued"], taken["enqueued"]) == (1, 1)
        assert await _pool_rows(import_id) == 0
        again = await requeue_imports(ctx)
        assert (again["requeued"], again["enqueued"]) == (0, 0)
        await burst_worker()
    finally:
        await pool.aclose()
    shown = (await real_client.get(f"{URL}/{import_id}", headers=place.headers)).json()
    assert (shown["state"], shown["rows_read"], shown["rows_accepted"]) == ("done", 50, 50)
    assert await _pool_rows(import_id) == 50
    listed = await real_client.get(POOL, params={"import_id": import_id}, headers=place.headers)
    assert listed.json()["total"] == 50
    assert await audit_actions(import_id) == ["import.create", "import.reclaim"]


async def test_a_lost_run_cannot_file_next_to_the_new_one_r_imp_1(
    real_client: AsyncClient,
    app: FastAPI,
    clock: MovableClock,
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that was only slow: its import was taken back and run again meanwhile; its
    next batch and its finish are refused and it leaves the new run's rows alone."""
    import_id = await _died_after_first_batch(real_client, app, clock, place, monkeypatch)
    clock.advance(imports.STALLED_AFTER + timedelta(minutes=1))
    await imports.reclaim_stalled(app.state.sessionmaker, clock)
    old = imports.Run(uuid.UUID(import_id), 1, clock)
    assert await _run(app, clock, import_id) == "done"
    assert not await imports._file_batch(app.state.sessionmaker, old, [], 0.5)
    assert await imports._discard(app.state.sessionmaker, old) == "superseded"
    assert await _pool_rows(import_id) == 50


async def test_an_import_losing_its_worker_too_often_fails_r_imp_1(
    real_client: AsyncClient,
    app: FastAPI,
    clock: MovableClock,
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After `MAX_ATTEMPTS` runs that all died the cron fails the import with a clear
    reason and nothing of it stays in the pool."""
    import_id = await _died_after_first_batch(real_client, app, clock, place, monkeypatch)
    for _ in range(imports.MAX_ATTEMPTS - 1):
        clock.advance(imports.STALLED_AFTER + timedelta(minutes=1))
        assert (await imports.reclaim_stalled(app.state.sessionmaker, clock))["requeued"] == 1
        real_file_batch = imports._file_batch

        async def die(*args: Any) -> bool:
            raise WorkerDied

        monkeypatch.setattr(imports, "_file_batch", die)
        with pytest.raises(WorkerDied):
            await _run(app, clock, import_id)
        monkeypatch.setattr(imports, "_file_batch", real_file_batch)
    clock.advance(imports.STALLED_AFTER + timedelta(minutes=1))
    assert await imports.reclaim_stalled(app.state.sessionmaker, clock) == {
        "requeued": 0,
        "failed": 1,
    }
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        shown = await conn.fetchrow(
            "SELECT state, error, rows_read FROM imports WHERE id = $1", uuid.UUID(import_id)
        )
    finally:
        await conn.close()
    assert shown is not None
    assert (shown["state"], shown["error"], shown["rows_read"]) == (
        "failed",
        "import_worker_lost",
        0,
    )
    assert await _pool_rows(import_id) == 0


async def test_a_skip_racing_a_claim_leaves_one_outcome_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, place: Place
) -> None:
    number = resident_id(date(1981, 2, 3), region=REGION)
    body = csv_file([row(name="郑十一", id_number=number, no_house_reason="借住")])
    done = await _imported(real_client, app, clock, place, body, "people.csv")
    pool = await real_client.get(POOL, params={"import_id": done["id"]}, headers=place.headers)
    row_id = pool.json()["items"][0]["id"]
    claim, skip = await asyncio.gather(
        real_client.post(
            f"{POOL}/claims",
            json={"grid_id": str(place.data.grid_id), "row_ids": [row_id]},
            headers=place.headers,
        ),
        real_client.post(f"{POOL}/{row_id}/skip", headers=place.headers),
    )
    claimed = bool(claim.json()["succeeded"])
    assert claimed != (skip.status_code == 200), (claim.text, skip.text)
    if claimed:
        assert_problem(skip, 409, "import_row_claimed")
    left = await real_client.get(
        POOL, params={"import_id": done["id"], "claimed": "true"}, headers=place.headers
    )
    assert [i["claimed"] for i in left.json()["items"]] == ["claimed" if claimed else "skipped"]

"""R-DAY-1 periodic report forms: communities file per period, late filings are flagged, a
parent's figures are the sum of its children's (also after a superior's audited amendment),
reminders go out before the deadline; R-DAY-2 ledgers by year: validated, scoped, searched,
paged and exported."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.daily_work import FIGURES, Form
from domain.principal import SYSTEM
from services import daily_reports
from services.context import Ctx
from services.db import set_scope
from services.models import AuditEntry, Notification, PeriodicReport
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.attachments import photo, ready_upload
from tests.routes.daily import FIGURES as C1_FIGURES
from tests.routes.daily import PERIOD, file_report, ledger_body, make_entry

D = "/api/v1/daily"


def report_body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "unit_id": str(world.c1.id),
        "form": "dispute",
        "period": PERIOD,
        "figures": C1_FIGURES,
        **values,
    }


async def rollup(client: AsyncClient, headers: dict[str, str], unit: Any) -> dict[str, Any]:
    r = await client.get(
        f"{D}/rollup",
        params={"unit_id": str(unit.id), "form": "dispute", "period": PERIOD},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def column_sums(children: list[dict[str, Any]]) -> dict[str, int]:
    return {key: sum(c["figures"][key] for c in children) for key in FIGURES[Form.DISPUTE]}


async def test_r_day_1_a_report_filed_after_its_deadline_is_flagged(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    # 2026-11-03 10:00 local: October's report is due by the end of 5 November.
    clock.current = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    on_time = await client.post(f"{D}/reports", json=report_body(world), headers=auth(staff, clock))
    assert on_time.status_code == 201, on_time.text
    assert on_time.json()["late"] is False
    assert on_time.json()["deadline_at"] == "2026-11-06T00:00:00+08:00"
    # 2026-11-06 00:00:01 local: one second late.
    clock.current = datetime(2026, 11, 5, 16, 0, 1, tzinfo=UTC)
    late = await client.post(
        f"{D}/reports",
        json=report_body(world, form="hotspot", figures={}),
        headers=auth(staff, clock),
    )
    assert late.status_code == 201 and late.json()["late"] is True
    flagged = await client.get(f"{D}/reports", params={"late": "true"}, headers=auth(staff, clock))
    assert [r["form"] for r in flagged.json()["items"]] == ["hotspot"]
    exported = await client.get(
        f"{D}/reports/export", params={"format": "csv"}, headers=auth(world.admin_s1, clock)
    )
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert sorted((r["报表"], r["逾期"]) for r in rows) == [("dispute", "否"), ("hotspot", "是")]
    twice = await client.post(f"{D}/reports", json=report_body(world), headers=auth(staff, clock))
    assert_problem(twice, 409, "report_already_filed")


async def test_r_day_1_bad_reports_are_refused_with_nothing_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    cases = [
        (report_body(world, period="2026-11"), "period_not_over"),
        (report_body(world, period="2026-13"), "period_invalid"),
        (report_body(world, unit_id=str(world.s1.id)), "report_level_invalid"),
        (report_body(world, figures={"mediated": -1}), "figures_invalid"),
        (
            report_body(world, figures={"resolved": 5, "mediated": 4, "disputes_found": 4}),
            "figures_invalid",
        ),
        (report_body(world, figures={"bribes": 1}), "figures_invalid"),
    ]
    for body, code in cases:
        assert_problem(await client.post(f"{D}/reports", json=body, headers=headers), 422, code)
    await set_scope(session, "*")
    assert (await session.scalars(select(PeriodicReport.id))).all() == []


async def test_r_day_1_roll_up_sums_equal_the_childrens_after_an_amendment(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    c1 = await file_report(session, clock, world.c1)
    await file_report(session, clock, world.c2, {"disputes_found": 2, "mediated": 2, "resolved": 2})
    await file_report(session, clock, world.c3, {"disputes_found": 7, "mediated": 1})
    headers = auth(world.admin_d, clock)
    street = await rollup(client, headers, world.s1)
    assert [c["unit_id"] for c in street["children"]] == [str(world.c1.id), str(world.c2.id)]
    assert street["figures"] == column_sums(street["children"])
    assert street["figures"]["disputes_found"] == 6
    assert (street["filed"], street["expected"], street["late"]) == (2, 2, 2)
    # A superior corrects C1's figures; every level above follows.
    amended = await client.patch(
        f"{D}/reports/{c1['id']}",
        json={"figures": {**C1_FIGURES, "disputes_found": 10, "mediated": 9}, "reason": "漏报"},
        headers={**auth(world.admin_s1, clock), "If-Match": '"1"'},
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2 and amended.json()["amended_by"] == str(world.admin_s1.id)
    street = await rollup(client, headers, world.s1)
    district = await rollup(client, headers, world.district)
    assert street["figures"] == column_sums(street["children"])
    assert street["figures"]["disputes_found"] == 12
    assert district["figures"] == column_sums(district["children"])
    assert [c["figures"]["disputes_found"] for c in district["children"]] == [12, 7]
    assert district["figures"]["mediated"] == 9 + 2 + 1
    community = await rollup(client, headers, world.c1)
    assert community["children"] == [] and community["figures"]["disputes_found"] == 10
    await set_scope(session, "*")
    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "daily_report.amend")
    )
    assert entry is not None and entry.reason == "漏报"
    assert entry.before == {"figures": {**dict.fromkeys(FIGURES[Form.DISPUTE], 0), **C1_FIGURES}}
    stale = await client.patch(
        f"{D}/reports/{c1['id']}",
        json={"figures": C1_FIGURES, "reason": "再改"},
        headers={**auth(world.admin_s1, clock), "If-Match": '"1"'},
    )
    assert_problem(stale, 412, "precondition_failed")


async def test_r_day_1_only_a_superior_amends(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    report = await file_report(session, clock, world.c1)
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    r = await client.patch(
        f"{D}/reports/{report['id']}",
        json={"figures": C1_FIGURES, "reason": "自己改"},
        headers=auth(staff, clock),
    )
    assert_problem(r, 403, "amend_needs_superior")


async def test_r_day_1_communities_are_reminded_before_the_deadline_once(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    c1_staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    c2_staff = await make_user(session, roles=["community_staff"], unit=world.c2)
    # 2026-12-04 10:00 local: November's reports are due by the end of 5 December.
    clock.current = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    await file_report(session, clock, world.c2, period="2026-11")
    ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
    await set_scope(session, "*")
    assert await daily_reports.remind_due_reports(ctx) >= 3
    assert await daily_reports.remind_due_reports(ctx) == 0

    async def titles(user: Any) -> list[str]:
        rows = await session.scalars(
            select(Notification.title)
            .where(Notification.user_id == user.id)
            .order_by(Notification.title)
        )
        return list(rows)

    assert await titles(c1_staff) == ["治安乱点整治报表待填报", "矛盾纠纷排查调处报表待填报"]
    # C2 filed its dispute report: only the hot-spot form is outstanding there.
    assert await titles(c2_staff) == ["治安乱点整治报表待填报"]
    # Before the reminder window opens nobody is told.
    clock.current = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
    assert await daily_reports.remind_due_reports(ctx) == 0


async def test_r_day_2_ledger_entries_are_validated(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)

    def body(**values: Any) -> dict[str, Any]:
        return {
            **ledger_body(world.s1, **values),
            "unit_id": str(world.s1.id),
            "occurred_on": values.get("occurred_on", "2026-11-20"),
        }

    cases = [
        (body(kind="document", subtype="funding"), "ledger_doc_no_required"),
        (body(kind="work_log", subtype="five_department"), "ledger_subtype_invalid"),
        (body(occurred_on="2025-12-31"), "ledger_year_mismatch"),
    ]
    for payload, code in cases:
        assert_problem(await client.post(f"{D}/ledgers", json=payload, headers=headers), 422, code)
    ok = await client.post(
        f"{D}/ledgers",
        json=body(
            kind="document",
            subtype="responsibility_letter",
            doc_no="喀街综治〔2026〕12号",
            title="综治目标责任书",
        ),
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["unit_name"] == world.s1.name


async def test_r_day_2_documents_carry_their_files(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-DAY-2: documents and special work with attachments — the writer's finished uploads,
    taken once, served inside the jurisdiction, replaced with the entry."""
    headers = auth(world.admin_s1, clock)
    letter = await ready_upload(session, clock, world.admin_s1, photo(), filename="责任书.jpg")
    minutes = await ready_upload(session, clock, world.admin_s1, photo(), filename="纪要.jpg")
    body = {
        **ledger_body(world.s1, kind="special_work", subtype="special_work"),
        "unit_id": str(world.s1.id),
        "occurred_on": "2026-11-20",
        "attachment_ids": [str(letter["id"])],
    }
    created = await client.post(f"{D}/ledgers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    entry = created.json()
    [file] = entry["attachments"]
    assert (file["upload_id"], file["filename"], file["mime"]) == (
        str(letter["id"]),
        "责任书.jpg",
        "image/jpeg",
    )
    assert file["url"] == f"{D}/ledgers/{entry['id']}/attachments/{letter['id']}"
    served = await client.get(file["url"], headers=headers)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert int(served.headers["content-length"]) == file["size"] == len(served.content)
    sibling = await client.get(file["url"], headers=auth(world.admin_s2, clock))
    assert_problem(sibling, 404, "ledger_entry_not_found")
    # Taken once: another entry cannot take the same upload, nor someone else's.
    others = await ready_upload(session, clock, world.worker_g1, photo())
    again = {**body, "attachment_ids": [str(minutes["id"]), str(letter["id"]), str(others["id"])]}
    problem = assert_problem(
        await client.post(f"{D}/ledgers", json=again, headers=headers),
        422,
        "ledger_attachment_invalid",
    )
    assert [e["field"] for e in problem["errors"]] == ["attachment_ids.1", "attachment_ids.2"]
    # Replaced with the entry: one kept, one new, the dropped one no longer served.
    changed = await client.patch(
        f"{D}/ledgers/{entry['id']}",
        json={"attachment_ids": [str(minutes["id"])]},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert [f["upload_id"] for f in changed.json()["attachments"]] == [str(minutes["id"])]
    assert_problem(
        await client.get(file["url"], headers=headers), 404, "ledger_attachment_not_found"
    )


async def test_r_day_2_ledgers_are_searchable_scoped_paged_and_exported(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    for i in range(3):
        await make_entry(
            session, clock, world.s1, title=f"巡逻日志{i}", kind="work_log", subtype="patrol"
        )
    doc = await make_entry(
        session,
        clock,
        world.c1,
        kind="document",
        subtype="commendation",
        doc_no="表彰〔2026〕3号",
        title="表彰决定",
    )
    await make_entry(
        session, clock, world.s2, title="巡逻日志-二街", kind="work_log", subtype="patrol"
    )
    headers = auth(world.admin_s1, clock)
    first = await client.get(
        f"{D}/ledgers", params={"kind": "work_log", "limit": 2}, headers=headers
    )
    page = first.json()
    assert page["total"] == 3 and [e["title"] for e in page["items"]] == ["巡逻日志0", "巡逻日志1"]
    rest = await client.get(
        f"{D}/ledgers",
        params={"kind": "work_log", "limit": 2, "cursor": page["next_cursor"]},
        headers=headers,
    )
    assert [e["title"] for e in rest.json()["items"]] == ["巡逻日志2"]
    found = await client.get(f"{D}/ledgers", params={"q": "〔2026〕3号"}, headers=headers)
    assert [e["id"] for e in found.json()["items"]] == [str(doc["id"])]
    by_unit = await client.get(
        f"{D}/ledgers", params={"unit_id": str(world.c1.id)}, headers=headers
    )
    assert [e["id"] for e in by_unit.json()["items"]] == [str(doc["id"])]
    exported = await client.get(
        f"{D}/ledgers/export", params={"year": 2026, "format": "csv"}, headers=headers
    )
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["单位", "年度", "台账", "类型", "标题"]
    assert sorted(r[4] for r in rows[1:]) == ["巡逻日志0", "巡逻日志1", "巡逻日志2", "表彰决定"]
    stale = await client.patch(
        f"{D}/ledgers/{doc['id']}", json={"title": "x"}, headers={**headers, "If-Match": '"7"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    changed = await client.patch(
        f"{D}/ledgers/{doc['id']}", json={"doc_no": None}, headers={**headers, "If-Match": '"1"'}
    )
    assert_problem(changed, 422, "ledger_doc_no_required")

"""R-NOTE-1 notices (公告, 个人通知, 短信管理): a unit's notice reaches every active user of its
subtree, or the named persons in it, as in-app notifications and, on request, as texts in
the outbox; a recipient outside the subtree refuses the whole notice; the notices issued are
listed within the jurisdiction."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Notice, Notification, OutboxMessage, User
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.notices import make_notice
from tests.routes.places import audit_actions, count_rows

URL = "/api/v1/notices"


async def told(session: AsyncSession, notice_id: Any) -> set[Any]:
    rows = await session.execute(
        select(Notification.user_id).where(
            Notification.target_type == "notice", Notification.target_id == notice_id
        )
    )
    return set(rows.scalars())


def body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "unit_id": str(world.s1.id),
        "title": "防汛通知",
        "body": "今晚有暴雨，请注意防范。",
        **values,
    }


async def test_r_note_1_an_announcement_reaches_the_units_subtree(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1, phone="13900000001")
    r = await client.post(URL, json=body(world, sms=True), headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    notice = r.json()
    assert (notice["audience"], notice["recipients"], notice["texted"]) == ("subtree", 2, 1)
    assert notice["created_at"] == "2026-11-23T10:00:00+08:00"
    # Everyone below S1 but the author; nobody in S2 or above.
    assert await told(session, notice["id"]) == {staff.id, world.worker_g1.id}
    [text] = (
        (await session.execute(select(OutboxMessage.payload).where(OutboxMessage.kind == "sms")))
        .scalars()
        .all()
    )
    assert text["user_id"] == str(staff.id) and text["text"].endswith("防汛通知")
    assert "13900000001" not in str(text)  # the number is read as it goes out (R-JUR-3)
    assert await audit_actions(session, notice["id"]) == ["notice.send"]
    # The recipient reads it among their notifications.
    mine = await client.get("/api/v1/notifications", headers=auth(world.worker_g1, clock))
    assert [(n["kind"], n["title"], n["target_id"]) for n in mine.json()["items"]] == [
        ("notice", "防汛通知", notice["id"])
    ]


async def test_r_note_1_a_personal_notice_reaches_only_the_named(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    r = await client.post(
        URL, json=body(world, user_ids=[str(staff.id)]), headers=auth(world.admin_d, clock)
    )
    assert r.status_code == 201, r.text
    assert (r.json()["audience"], r.json()["recipients"]) == ("persons", 1)
    assert await told(session, r.json()["id"]) == {staff.id}


async def test_r_note_1_a_recipient_outside_the_subtree_refuses_the_notice(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = (await count_rows(session, Notice), await count_rows(session, Notification))
    outsider: User = world.admin_s2
    r = await client.post(
        URL,
        json=body(world, user_ids=[str(world.worker_g1.id), str(outsider.id)]),
        headers=auth(world.admin_d, clock),
    )
    problem = assert_problem(r, 422, "notice_recipient_invalid")
    assert problem["errors"][0]["field"] == "user_ids"
    assert (await count_rows(session, Notice), await count_rows(session, Notification)) == before
    r = await client.post(URL, json=body(world, user_ids=[]), headers=auth(world.admin_d, clock))
    assert_problem(r, 422, "notice_recipient_invalid")
    r = await client.post(URL, json=body(world, extra=1), headers=auth(world.admin_d, clock))
    assert r.status_code == 422


async def test_r_note_1_who_may_issue_and_who_sees_the_list(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    r = await client.post(URL, json=body(world), headers=auth(world.worker_g1, clock))
    assert_problem(r, 403, "permission_denied")
    first = await make_notice(session, clock, world, title="第一则")
    clock.current = clock.current.replace(hour=3)
    second = await make_notice(session, clock, world, title="第二则")
    page = await client.get(URL, params={"limit": 1}, headers=auth(world.admin_d, clock))
    assert page.json()["total"] == 2
    assert [n["id"] for n in page.json()["items"]] == [str(second["id"])]
    rest = await client.get(
        URL, params={"cursor": page.json()["next_cursor"]}, headers=auth(world.admin_d, clock)
    )
    assert [n["id"] for n in rest.json()["items"]] == [str(first["id"])]
    sibling = await client.get(URL, headers=auth(world.admin_s2, clock))
    assert sibling.json() == {"items": [], "next_cursor": None, "total": 0}

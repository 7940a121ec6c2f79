"""In-app notifications (站内信, R-KEY-2 / R-WF-5): a user reads only their own, newest first
with an unread count, keyset-paged, searchable and exportable; marking read is audited and
another user's notification does not exist (404)."""

import csv
import io
import uuid
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, Notification
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.tags import EPOCH, make_notification

NOTES = "/api/v1/notifications"


async def seed(session: AsyncSession, world: World) -> list[Notification]:
    """Five notifications for the grid worker (oldest first) and one for someone else."""
    mine = [
        await make_notification(
            session, world.worker_g1, title=f"通知{i}", at=EPOCH + timedelta(hours=i)
        )
        for i in range(5)
    ]
    await make_notification(session, world.admin_s1, title="别人的通知")
    return mine


async def test_own_notifications_newest_first_with_unread_count_and_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    mine = await seed(session, world)
    headers = auth(world.worker_g1, clock)
    r = await client.get(NOTES, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["title"] for n in body["items"]] == [f"通知{i}" for i in range(4, -1, -1)]
    assert (body["total"], body["unread_count"], body["next_cursor"]) == (5, 5, None)
    assert body["items"][0]["created_at"].endswith("+08:00")

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(NOTES, params=params, headers=headers)).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [str(n.id) for n in reversed(mine)]
    r = await client.get(NOTES, params={"cursor": "not-a-cursor"}, headers=headers)
    assert_problem(r, 400, "cursor_invalid")

    r = await client.get(NOTES, params={"q": "通知3"}, headers=headers)
    assert [n["title"] for n in r.json()["items"]] == ["通知3"]
    r = await client.get(NOTES, headers=auth(world.admin_s1, clock))
    assert [n["title"] for n in r.json()["items"]] == ["别人的通知"]


async def test_mark_read_one_and_all_audited_and_unread_filter(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    mine = await seed(session, world)
    headers = auth(world.worker_g1, clock)
    r = await client.post(f"{NOTES}/{mine[1].id}/read", headers=headers)
    assert r.status_code == 200, r.text
    read_at = r.json()["read_at"]
    assert read_at is not None
    clock.advance(timedelta(minutes=5))
    headers = auth(world.worker_g1, clock)
    again = await client.post(f"{NOTES}/{mine[1].id}/read", headers=headers)
    assert again.json()["read_at"] == read_at  # already read: unchanged

    unread = (await client.get(NOTES, params={"unread": "true"}, headers=headers)).json()
    assert unread["total"] == unread["unread_count"] == 4
    assert str(mine[1].id) not in [n["id"] for n in unread["items"]]
    read = (await client.get(NOTES, params={"unread": "false"}, headers=headers)).json()
    assert [n["id"] for n in read["items"]] == [str(mine[1].id)]

    r = await client.post(f"{NOTES}/read-all", headers=headers)
    assert r.json() == {"updated": 4}
    r = await client.post(f"{NOTES}/read-all", headers=headers)
    assert r.json() == {"updated": 0}
    assert (await client.get(NOTES, headers=headers)).json()["unread_count"] == 0

    await set_scope(session, "*")
    actions = (
        await session.execute(
            select(AuditEntry.action, AuditEntry.target_id, AuditEntry.after)
            .where(AuditEntry.actor_id == world.worker_g1.id)
            .order_by(AuditEntry.id)
        )
    ).all()
    assert [tuple(a) for a in actions] == [
        ("notification.read", str(mine[1].id), None),
        ("notification.read_all", None, {"count": 4}),
    ]


async def test_another_users_notification_is_404_and_untouched(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    theirs = await make_notification(session, world.admin_s1, title="别人的")
    r = await client.post(f"{NOTES}/{theirs.id}/read", headers=auth(world.worker_g1, clock))
    assert_problem(r, 404, "notification_not_found")
    r = await client.post(f"{NOTES}/{uuid.uuid4()}/read", headers=auth(world.worker_g1, clock))
    assert_problem(r, 404, "notification_not_found")
    await client.post(f"{NOTES}/read-all", headers=auth(world.worker_g1, clock))
    await set_scope(session, "*")
    await session.refresh(theirs)
    assert theirs.read_at is None


async def test_export_of_own_notifications_and_permission(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await seed(session, world)
    r = await client.get(
        f"{NOTES}/export",
        params={"format": "csv", "q": "通知"},
        headers=auth(world.worker_g1, clock),
    )
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["标题"] for row in rows] == [f"通知{i}" for i in range(4, -1, -1)]
    # Auditors read no notifications (no notification:read).
    auditor = await make_user(session, roles=["auditor"], unit=world.district)
    r = await client.get(NOTES, headers=auth(auditor, clock))
    assert_problem(r, 403, "permission_denied")

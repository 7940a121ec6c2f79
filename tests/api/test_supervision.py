"""R-SUP-1 / R-SUP-5: manual supervision (督办) and its cancellation by a superior or leader,
the event's cards, and the assessment ledger read within jurisdiction (R-JUR-1)."""

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import LedgerLine, Supervision, User
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.events import make_event
from tests.routes.places import audit_actions, count_rows
from tests.routes.supervision import overdue_event

URL = "/api/v1/events"
LEDGER = "/api/v1/assessment/ledger"
CARD_FIELDS = {"id", "step_id", "level", "source", "rule", "due_at", "issued_at", "cleared_at"}
CARD_FIELDS |= {"deduction"}


async def post(
    client: AsyncClient,
    user: User,
    clock: MovableClock,
    event_id: Any,
    action: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    return await client.post(
        f"{URL}/{event_id}/actions/{action}",
        json=body if body is not None else {},
        headers={**auth(user, clock), **(headers or {})},
    )


async def ledger_of(session: AsyncSession, event_id: Any) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(LedgerLine.points, LedgerLine.item_code)
        .where(LedgerLine.event_id == event_id)
        .order_by(LedgerLine.created_at, LedgerLine.points)
    )
    return [(row.points, row.item_code) for row in rows]


@pytest.fixture
async def event(session: AsyncSession, world: World, clock: MovableClock) -> dict[str, Any]:
    return await make_event(session, clock, world)


async def test_r_sup_1_a_superior_supervises_and_a_yellow_card_deducts(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    event: dict[str, Any],
) -> None:
    r = await post(
        client,
        world.admin_s1,
        clock,
        event["id"],
        "supervise",
        {"level": "yellow", "opinion": "请于今日内签收"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == event["version"] + 1
    (card,) = r.json()["supervisions"]
    assert set(card) == CARD_FIELDS
    assert (card["source"], card["level"], card["rule"], card["deduction"]) == (
        "manual",
        "yellow",
        None,
        -5,
    )
    assert card["issued_at"] == "2026-11-23T10:00:00+08:00" and card["due_at"] is None
    listed = await client.get(
        f"{URL}/{event['id']}/supervisions", headers=auth(world.admin_d, clock)
    )
    assert listed.status_code == 200 and listed.json() == [card]
    assert await ledger_of(session, event["id"]) == [(-5, "supervision_yellow")]
    assert "event.supervise" in await audit_actions(session, event["id"])


async def test_r_sup_1_a_normal_card_deducts_nothing_and_a_leader_may_supervise(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    event: dict[str, Any],
) -> None:
    leader = await make_user(session, roles=["leader"], unit=world.district)
    r = await post(
        client, leader, clock, event["id"], "supervise", {"level": "normal", "opinion": "关注进展"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["supervisions"][0]["deduction"] == 0
    assert await ledger_of(session, event["id"]) == []


@pytest.mark.parametrize(
    "body",
    [
        {"level": "yellow"},
        {"level": "yellow", "opinion": ""},
        {"level": "black", "opinion": "x"},
        {"level": "red", "opinion": "x", "points": -50},
    ],
)
async def test_r_sup_1_bad_supervision_bodies_are_422_and_write_nothing(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    event: dict[str, Any],
    body: dict[str, Any],
) -> None:
    before = (await count_rows(session, Supervision), await count_rows(session, LedgerLine))
    r = await post(client, world.admin_d, clock, event["id"], "supervise", body)
    problem = assert_problem(r, 422, "validation_failed")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"] + problem["detail"])
    after = (await count_rows(session, Supervision), await count_rows(session, LedgerLine))
    assert after == before


async def test_r_sup_1_who_may_not_supervise(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    event: dict[str, Any],
) -> None:
    body = {"level": "red", "opinion": "限期办结"}
    # No event:supervise permission at all.
    assert_problem(
        await post(client, world.worker_g1, clock, event["id"], "supervise", body),
        403,
        "permission_denied",
    )
    # A supervisor of the sibling street does not see the event (R-JUR-1).
    operator = await make_user(session, roles=["street_operator"], unit=world.s2)
    assert_problem(
        await post(client, operator, clock, event["id"], "supervise", body), 404, "event_not_found"
    )
    assert await count_rows(session, Supervision) == 0


async def test_r_sup_1_a_stale_if_match_is_412_and_writes_nothing(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    event: dict[str, Any],
) -> None:
    r = await post(
        client,
        world.admin_d,
        clock,
        event["id"],
        "supervise",
        {"level": "red", "opinion": "限期办结"},
        headers={"If-Match": 'W/"99"'},
    )
    assert r.status_code == 412, r.text
    assert await count_rows(session, Supervision) == 0
    assert await count_rows(session, LedgerLine) == 0


async def test_r_sup_5_cancelling_clears_the_latest_manual_card_and_compensates(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    event: dict[str, Any],
) -> None:
    for level in ("red", "yellow"):
        r = await post(
            client,
            world.admin_d,
            clock,
            event["id"],
            "supervise",
            {"level": level, "opinion": "限期办结"},
        )
        assert r.status_code == 200, r.text
        clock.advance(timedelta(minutes=5))
    r = await post(client, world.admin_d, clock, event["id"], "cancel-supervision")
    assert r.status_code == 200, r.text
    by_level = {c["level"]: c for c in r.json()["supervisions"]}
    assert by_level["yellow"]["cleared_at"] is not None and by_level["red"]["cleared_at"] is None
    # Never deleted: the yellow deduction stands and a +5 line reverses it.
    assert sorted(await ledger_of(session, event["id"])) == [
        (-10, "supervision_red"),
        (-5, "supervision_yellow"),
        (5, "supervision_yellow_cancelled"),
    ]
    red_id = by_level["red"]["id"]
    r = await post(
        client, world.admin_d, clock, event["id"], "cancel-supervision", {"supervision_id": red_id}
    )
    assert r.status_code == 200, r.text
    assert sum(points for points, _ in await ledger_of(session, event["id"])) == 0
    problem = assert_problem(
        await post(client, world.admin_d, clock, event["id"], "cancel-supervision"),
        404,
        "supervision_not_found",
    )
    assert problem["detail"] == "没有可撤销的人工督办"
    assert (await audit_actions(session, event["id"])).count("event.cancel-supervision") == 2


async def test_r_sup_5_automatic_cards_cannot_be_cancelled(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await overdue_event(session, clock, world)
    cards = await client.get(
        f"{URL}/{event['id']}/supervisions", headers=auth(world.admin_d, clock)
    )
    auto = cards.json()[0]["id"]
    assert_problem(
        await post(
            client,
            world.admin_d,
            clock,
            event["id"],
            "cancel-supervision",
            {"supervision_id": auto},
        ),
        404,
        "supervision_not_found",
    )


async def test_r_jur_3_the_grid_worker_sees_cards_without_personal_data(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await overdue_event(session, clock, world)
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    accepted = await post(
        client,
        staff,
        clock,
        event["id"],
        "accept",
        {"responsible_person": "王建国", "responsible_phone": "13912345678"},
    )
    assert accepted.status_code == 200, accepted.text
    for path in (f"{URL}/{event['id']}/supervisions", f"{URL}/{event['id']}"):
        r = await client.get(path, headers=auth(world.worker_g1, clock))
        assert r.status_code == 200 and "13912345678" not in r.text and "王建国" not in r.text


async def test_r_sup_5_the_ledger_by_unit_and_period_within_jurisdiction(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await overdue_event(session, clock, world)
    params: dict[str, str | int] = {"unit_id": str(world.c1.id), "period": "2026-11", "limit": 1}
    first = await client.get(LEDGER, params=params, headers=auth(world.admin_s1, clock))
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    second = await client.get(
        LEDGER,
        params={**params, "cursor": page["next_cursor"]},
        headers=auth(world.admin_s1, clock),
    )
    lines = page["items"] + second.json()["items"]
    assert second.json()["next_cursor"] is None
    assert sorted(x["points"] for x in lines) == [-10, -5]
    assert {x["event_id"] for x in lines} == {str(event["id"])}
    assert set(lines[0]) >= {
        "points",
        "item_code",
        "reason",
        "event_id",
        "step_id",
        "supervision_id",
        "created_at",
    }
    assert lines[0]["created_at"].endswith("+08:00")
    searched = await client.get(LEDGER, params={"q": "48小时"}, headers=auth(world.admin_d, clock))
    assert [x["points"] for x in searched.json()["items"]] == [-10]
    other = await client.get(
        LEDGER, params={"period": "2026-12"}, headers=auth(world.admin_d, clock)
    )
    assert other.json()["total"] == 0
    # R-JUR-1: a unit outside the caller's jurisdiction does not exist for them.
    assert_problem(
        await client.get(LEDGER, params=params, headers=auth(world.admin_s2, clock)),
        404,
        "org_unit_not_found",
    )
    assert_problem(
        await client.get(LEDGER, params={"period": "2026-13"}, headers=auth(world.admin_d, clock)),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.get(LEDGER, headers=auth(world.worker_g1, clock)), 403, "permission_denied"
    )
    export = await client.get(
        f"{LEDGER}/export",
        params={"format": "csv", "period": "2026-11"},
        headers=auth(world.admin_s1, clock),
    )
    assert export.status_code == 200 and "48小时" in export.text

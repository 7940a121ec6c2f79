"""Assessment findings (考核认定, R-ASM-3) over the API and through the accrual: a superior records
what it found on an event against the community that reported or handled it; each standing
finding becomes one ledger line pointing at it; a revoked one is compensated; the year's "no
wrong submission" bonus and the lateness of the community's verification click derived from
the history (R-ASM-3, R-WF-2); everything inside the jurisdiction (R-JUR-1) and audited."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assessment import Kind, ReviewState
from services.models import Finding, LedgerLine, User
from tests.api.test_assessment_accrual import ACCEPT, NOTHING, accrue, act, lines
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user, system_ctx
from tests.routes.assessment import FINDINGS, s1_review
from tests.routes.events import make_event
from tests.routes.places import audit_actions

# The end of 2026-11-23 in the business zone (+08:00), the day the clock starts on.
DAY_END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


async def record(client: AsyncClient, user: User, clock: MovableClock, **body: Any) -> Response:
    return await client.post(FINDINGS, json=body, headers=auth(user, clock))


def finding_body(event: dict[str, Any], unit_id: Any, kind: str = "wrong_submission") -> Any:
    return {"kind": kind, "event_id": str(event["id"]), "unit_id": str(unit_id), "note": "投诉属实"}


async def findings_count(session: AsyncSession) -> int:
    await system_ctx(session, MovableClock())
    return int(await session.scalar(select(func.count()).select_from(Finding)) or 0)


async def test_r_asm_3_a_finding_is_charged_once_and_a_revoked_one_compensated(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Street S1 finds a wrong submission of C1: −1 for C1 in the month recorded, the line
    pointing at the finding; re-runs write nothing; revoked with a reason, the next run
    writes +1 reversing it; a second revocation is 409; both changes audited."""
    event = await make_event(session, clock, world)
    created = await record(client, world.admin_s1, clock, **finding_body(event, world.c1.id))
    assert created.status_code == 201, created.text
    finding = created.json()
    assert created.headers["Location"] == f"{FINDINGS}/{finding['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (finding["period"], finding["revoked_at"], finding["recorder_unit_id"]) == (
        "2026-11",
        None,
        str(world.s1.id),
    )
    await accrue(session, clock, clock.now())
    [line] = await lines(session, item_code="wrong_submission")
    assert (line.unit_id, line.points, line.period, str(line.finding_id)) == (
        world.c1.id,
        Decimal(-1),
        "2026-11",
        finding["id"],
    )
    assert line.cause_key == f"wrong_submission:{finding['id']}" and line.event_id == event["id"]
    assert "错报引起投诉" in line.reason and event["service_no"] in line.reason
    assert await accrue(session, clock, clock.now()) == NOTHING

    url = f"{FINDINGS}/{finding['id']}"
    headers = auth(world.admin_s1, clock)
    stale = await client.post(
        f"{url}/revoke", json={"reason": "复核不属实"}, headers={**headers, "If-Match": '"0"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    revoked = await client.post(f"{url}/revoke", json={"reason": "复核不属实"}, headers=headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoke_reason"] == "复核不属实" and revoked.json()["version"] == 2
    again = await client.post(f"{url}/revoke", json={"reason": "再次"}, headers=headers)
    assert_problem(again, 409, "finding_revoked")
    counts = await accrue(session, clock, clock.now())
    assert counts["reversals"] == 1
    [reversal] = await lines(session, reverses_id=line.id)
    assert (reversal.points, reversal.period, reversal.finding_id) == (
        Decimal(1),
        "2026-11",
        line.finding_id,
    )
    assert await accrue(session, clock, clock.now()) == NOTHING
    assert await audit_actions(session, finding["id"]) == [
        "assessment_finding.create",
        "assessment_finding.revoke",
    ]


async def test_r_asm_3_every_finding_kind_is_priced_by_its_default_item(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The four kinds at their shipped points: uncollected dispute causing a petition −5,
    resolvable dispute pushed up −1, wrong submission with complaint −1, not cooperating
    after escalation −2; one kind twice on the same event and unit is 409."""
    event = await make_event(session, clock, world)
    for kind in (
        "petition_uncollected",
        "dispute_pushed_up",
        "wrong_submission",
        "escalation_uncooperative",
    ):
        created = await record(
            client, world.admin_d, clock, **finding_body(event, world.c1.id, kind)
        )
        assert created.status_code == 201, created.text
    twice = await record(client, world.admin_d, clock, **finding_body(event, world.c1.id))
    assert_problem(twice, 409, "finding_exists")
    await accrue(session, clock, clock.now())
    charged = await lines(session, event_id=event["id"], unit_id=world.c1.id)
    assert sorted((x.item_code, x.points) for x in charged if x.finding_id) == [
        ("dispute_pushed_up", Decimal(-1)),
        ("escalation_uncooperative", Decimal(-2)),
        ("petition_uncollected", Decimal(-5)),
        ("wrong_submission", Decimal(-1)),
    ]


async def test_r_asm_3_a_wrong_submission_finding_is_capped_at_ten_a_month(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "错报并引起投诉" −1 each, at most 10 points a month: the eleventh is not charged."""
    for _ in range(11):
        event = await make_event(session, clock, world)
        created = await record(client, world.admin_s1, clock, **finding_body(event, world.g1.id))
        assert created.status_code == 201, created.text
    await accrue(session, clock, clock.now())
    charged = await lines(session, item_code="wrong_submission", unit_id=world.g1.id)
    assert sum(x.points for x in charged) == Decimal(-10) and len(charged) == 10


async def test_r_asm_3_bad_findings_are_refused_and_nothing_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A unit of the sibling street is 404 (R-JUR-1); a street is not charged by findings
    (422); a community that neither reported nor handled the event is 422; a unit cannot
    find against itself (403); unknown kinds and fields are 422; who may only read the
    assessment may not record (403)."""
    event = await make_event(session, clock, world)
    s2 = await record(client, world.admin_s2, clock, **finding_body(event, world.c1.id))
    assert_problem(s2, 404, "org_unit_not_found")
    street = await record(client, world.admin_d, clock, **finding_body(event, world.s1.id))
    assert_problem(street, 422, "finding_unit_not_assessed")
    unrelated = await record(client, world.admin_d, clock, **finding_body(event, world.c2.id))
    assert_problem(unrelated, 422, "finding_unit_unrelated")
    own_admin = await make_user(session, roles=["admin"], unit=world.c1)
    own = await record(client, own_admin, clock, **finding_body(event, world.c1.id))
    assert_problem(own, 403, "finding_not_superior")
    kind = await record(client, world.admin_d, clock, **finding_body(event, world.c1.id, "late"))
    assert kind.status_code == 422
    extra = await record(
        client, world.admin_d, clock, **finding_body(event, world.c1.id), points=-9
    )
    assert extra.status_code == 422
    empty = await record(
        client, world.admin_d, clock, **{**finding_body(event, world.c1.id), "note": ""}
    )
    assert empty.status_code == 422
    reader = await make_user(session, roles=["street_operator"], unit=world.s1)
    assert (
        await record(client, reader, clock, **finding_body(event, world.c1.id))
    ).status_code == 403
    missing = await record(
        client,
        world.admin_d,
        clock,
        **{**finding_body(event, world.c1.id), "event_id": str(world.s1.id)},
    )
    assert_problem(missing, 404, "event_not_found")
    assert await findings_count(session) == 0


async def test_r_asm_3_findings_of_an_archived_period_stand(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Once the unit's review of the finding's month is archived, the finding can no longer
    be revoked (409), nor another recorded for that month."""
    event = await make_event(session, clock, world)
    created = await record(client, world.admin_s1, clock, **finding_body(event, world.c1.id))
    finding = created.json()
    review = await s1_review(session, world, clock, ReviewState.ARCHIVED)
    review.unit_id, review.path, review.kind = world.c1.id, world.c1.path, Kind.COMMUNITY.value
    await session.flush()
    refused = await client.post(
        f"{FINDINGS}/{finding['id']}/revoke",
        json={"reason": "复核"},
        headers=auth(world.admin_s1, clock),
    )
    assert_problem(refused, 409, "finding_period_archived")
    other = await record(
        client, world.admin_s1, clock, **finding_body(event, world.c1.id, "dispute_pushed_up")
    )
    assert_problem(other, 409, "finding_period_archived")
    assert await findings_count(session) == 1


async def test_r_asm_3_findings_are_listed_paged_filtered_and_exported(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The list pages by limit/cursor and filters by kind, unit, event and revocation; the
    sibling street sees none of them and a single one is 404 to it (R-JUR-1); the export
    carries the filtered rows."""
    event = await make_event(session, clock, world)
    ids = []
    for kind in ("petition_uncollected", "dispute_pushed_up", "wrong_submission"):
        created = await record(
            client, world.admin_s1, clock, **finding_body(event, world.c1.id, kind)
        )
        ids.append(created.json()["id"])
    headers = auth(world.admin_d, clock)
    await client.post(f"{FINDINGS}/{ids[0]}/revoke", json={"reason": "撤销"}, headers=headers)
    first = (await client.get(FINDINGS, params={"limit": 2}, headers=headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await client.get(
        FINDINGS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    assert {i["id"] for i in first["items"] + rest.json()["items"]} == set(ids)
    standing = await client.get(FINDINGS, params={"revoked": "false"}, headers=headers)
    assert {i["id"] for i in standing.json()["items"]} == set(ids[1:])
    pushed = await client.get(
        FINDINGS,
        params={
            "kind": "dispute_pushed_up",
            "unit_id": str(world.c1.id),
            "event_id": str(event["id"]),
        },
        headers=headers,
    )
    assert [i["id"] for i in pushed.json()["items"]] == [ids[1]]
    sibling = auth(world.admin_s2, clock)
    assert (await client.get(FINDINGS, headers=sibling)).json()["items"] == []
    assert (await client.get(f"{FINDINGS}/{ids[1]}", headers=sibling)).status_code == 404
    exported = await client.get(
        f"{FINDINGS}/export", params={"format": "csv", "revoked": "true"}, headers=headers
    )
    assert exported.status_code == 200, exported.text
    text = exported.content.decode("utf-8-sig")
    assert "撤销原因" in text and "撤销" in text.splitlines()[1]
    assert len(text.strip().splitlines()) == 2


async def test_r_asm_3_no_wrong_submission_all_year_earns_five(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """At the end of 2026, the community and grid that had entries and no standing
    wrong-submission finding that year get +5 in December: G1 does, C1 (found once) does
    not; a finding revoked before the year ended does not count; a unit without entries
    gets nothing."""
    event = await make_event(session, clock, world)
    found = await record(client, world.admin_s1, clock, **finding_body(event, world.c1.id))
    assert found.status_code == 201
    revoked = (
        await record(client, world.admin_s1, clock, **finding_body(event, world.g1.id))
    ).json()
    await client.post(
        f"{FINDINGS}/{revoked['id']}/revoke",
        json={"reason": "复核不属实"},
        headers=auth(world.admin_s1, clock),
    )
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    await accrue(session, clock, new_year - timedelta(minutes=1))
    assert await lines(session, item_code="year_no_wrong_submission") == []
    await accrue(session, clock, new_year)
    await accrue(session, clock, new_year + timedelta(days=1))
    bonus = await lines(session, item_code="year_no_wrong_submission")
    assert [(x.unit_id, x.points, x.period) for x in bonus] == [
        (world.g1.id, Decimal(5), "2026-12")
    ]
    assert bonus[0].cause_key == f"year_no_wrong_submission:{world.g1.id}:2026"


async def complete(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> dict[str, Any]:
    event = await make_event(session, clock, world)
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    done = await act(client, staff, clock, event["id"], "complete", {"result": "已处置"})
    return {**event, "step_id": done["steps"][0]["id"]}


async def verify(client: AsyncClient, world: World, clock: MovableClock, event: Any) -> None:
    body = {"satisfaction": "satisfied", "method": "on_site"}
    await act(client, world.worker_g1, clock, event["id"], "verify", body)


async def late_lines(session: AsyncSession, event: dict[str, Any]) -> list[tuple[str, Any]]:
    found = await lines(session, event_id=event["id"])
    return [(x.item_code, x.unit_id) for x in found if x.item_code in {"verify_late", "close_late"}]


async def test_r_asm_3_an_unverified_completion_is_late_once_the_day_is_over(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    """Completed at 10:00 and not verified: nothing a minute before the day ends; at its end
    −1 for C1, the community it was reported in, caused by the step; verified the next day,
    that late verification is the same cause and is not charged again — only the late
    办结 click is (close_late, the verifier's)."""
    event = await complete(client, session, world, clock, staff)
    await accrue(session, clock, DAY_END - timedelta(minutes=1))
    assert await late_lines(session, event) == []
    await accrue(session, clock, DAY_END)
    [line] = await lines(session, event_id=event["id"], item_code="verify_late")
    assert (line.unit_id, line.points, line.period) == (world.c1.id, Decimal(-1), "2026-11")
    assert line.cause_key == f"verify_late:{event['step_id']}"
    clock.current = DAY_END + timedelta(hours=2)
    await verify(client, world, clock, event)
    await accrue(session, clock, clock.now())
    await accrue(session, clock, clock.now() + timedelta(days=3))
    assert await late_lines(session, event) == [
        ("close_late", world.g1.id),
        ("verify_late", world.c1.id),
    ]


async def test_r_asm_3_a_late_verification_recorded_first_is_charged_once(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    """The other order: verified the next day before any run; the run charges the verifier
    once for the late evaluation (and the late click); later runs add nothing."""
    event = await complete(client, session, world, clock, staff)
    clock.current = DAY_END + timedelta(hours=1)
    await verify(client, world, clock, event)
    await accrue(session, clock, clock.now())
    assert await accrue(session, clock, clock.now() + timedelta(days=2)) == NOTHING
    [line] = await lines(session, event_id=event["id"], item_code="verify_late")
    assert line.cause_key == f"verify_late:{event['step_id']}" and line.unit_id == world.g1.id
    assert await late_lines(session, event) == [
        ("close_late", world.g1.id),
        ("verify_late", world.g1.id),
    ]


async def test_r_asm_3_a_same_day_verification_and_an_unverifying_process_cost_nothing(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    """Verified the same day: no lateness at all. A city-component event closes on
    completion without verification (R-WF-4): nothing is ever late on it."""
    event = await complete(client, session, world, clock, staff)
    clock.advance(timedelta(hours=5))
    await verify(client, world, clock, event)
    component = await make_event(
        session, clock, world, category="city_component", subtype="manhole_cover"
    )
    await act(client, staff, clock, component["id"], "accept", ACCEPT)
    await act(client, staff, clock, component["id"], "complete", {"result": "已修复"})
    await accrue(session, clock, clock.now() + timedelta(days=3))
    assert await late_lines(session, event) == []
    assert await late_lines(session, component) == []
    assert (
        await session.scalar(
            select(func.count()).select_from(LedgerLine).where(LedgerLine.item_code == "close_late")
        )
        == 0
    )

"""Demo events (issue: the boxes, cards, ledgers and rankings must show something real): a
year of incidents across the demo city's grids, every category and state, played through the
real workflow in time order — reported, routed or dispatched, accepted late or on time,
escalated, handed to departments, judged unsatisfied and appealed, expedited, supervised,
marked legacy or typical — with the supervision sweep running as simulated time passes, so
cards, deductions and lights come out of the same code the platform runs.

Each story is planned up front from a seeded random generator (a fixed seed gives the same
city), then the actions of all stories are executed in the order of their instants; an action
whose instant lies in the future is not taken, which leaves the recent events open."""

import heapq
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import DateTime, bindparam, select, text, update

from domain.errors import DomainError
from domain.events import SUBTYPES, Category, Source
from domain.org import Level
from domain.permissions import Perm, Role
from domain.principal import SYSTEM, SYSTEM_SCOPE, Principal
from domain.supervision import Level as CardLevel
from domain.workflow import Action
from services import (
    assessment_accrual,
    assessment_demo,
    event_actions,
    events,
    routing,
    supervision,
)
from services.context import Ctx
from services.demo_data import DemoGrid, GridArea, demo_grids
from services.models import Department, Notification, OrgUnit

DEFAULT_EVENTS = 600
DEFAULT_SEED = 20_261_123
YEAR = timedelta(days=365)
# Stories that stall: nobody acts after some step, so the event stays open and overdue.
STALLED = 0.07

CATEGORY_SHARES = {
    Category.DISPUTE: 40.0,
    Category.SECURITY_HAZARD: 20.0,
    Category.LIVELIHOOD: 20.0,
    Category.CITY_COMPONENT: 15.0,
    Category.OTHER: 5.0,
}
# A title and a description per sub-type (the address is added from the grid's roads).
STORIES: dict[str, tuple[str, str]] = {
    "neighbour": ("楼道堆放杂物引发邻里纠纷", "住户在楼道长期堆放杂物，邻居多次协商未果发生争吵"),
    "family": ("家庭赡养纠纷", "子女之间就老人赡养费用分担发生争执"),
    "marriage": ("婚姻家庭矛盾", "夫妻双方因家庭琐事长期不和，一方要求调解"),
    "compensation": ("车辆剐蹭赔偿纠纷", "两车在巷口剐蹭，双方对赔偿金额分歧较大"),
    "contract": ("装修合同纠纷", "业主与装修队就工程款结算发生纠纷"),
    "labour": ("农民工讨要工资", "十余名务工人员反映工地拖欠工资三个月"),
    "demolition": ("征收补偿争议", "住户对房屋征收补偿标准有异议"),
    "ethnic_religious": ("邻里习俗差异引发矛盾", "因生活习俗差异产生误会，需耐心调解"),
    "veteran_resettlement": ("退役军人安置诉求", "退役军人反映安置待遇落实问题"),
    "building_quality": ("新建住宅漏水", "多户业主反映新交付住宅屋面漏水"),
    "property_management": ("物业服务纠纷", "业主不满物业服务拒交物业费，双方僵持"),
    "robbery": ("夜间抢劫警情", "群众反映夜间在巷道内被抢手机"),
    "snatching": ("飞车抢夺", "一名妇女在路口被骑车人抢夺挎包"),
    "theft": ("电动车被盗", "小区内电动车夜间被盗，群众要求加强巡逻"),
    "gambling": ("聚众赌博线索", "有群众反映某出租屋内经常有人聚集赌博"),
    "prostitution": ("涉黄违法线索", "群众举报某足浴店存在违法经营行为"),
    "gang": ("涉恶势力线索", "商户反映有人强行收取“保护费”"),
    "fight": ("酒后打架斗殴", "夜市摊点两伙人酒后发生肢体冲突"),
    "liability_accident": ("施工安全隐患", "工地塔吊作业无防护，存在重大安全隐患"),
    "hardship_relief": ("困难家庭救助申请", "独居老人生活困难，申请临时救助"),
    "education": ("适龄儿童入学咨询", "流动人口子女入学手续办理咨询"),
    "health": ("慢病老人就医不便", "行动不便老人需上门医疗服务"),
    "employment": ("失业人员求职", "失业人员希望获得就业培训与岗位推荐"),
    "elderly_service": ("老年人助餐需求", "多位老人希望社区开设助餐点"),
    "manhole_cover": ("井盖缺失", "路口井盖缺失，夜间行人存在跌落危险"),
    "street_light": ("路灯不亮", "巷道内多盏路灯损坏，夜间照明不足"),
    "hydrant": ("消防栓损坏", "小区消防栓被撞损，无法正常使用"),
    "utility_pole": ("电线杆倾斜", "大风后电线杆倾斜，存在倒伏风险"),
    "bus_stop": ("公交站亭破损", "公交站亭玻璃破碎，影响候车安全"),
    "other": ("其他问题反映", "群众反映的其他需协调处理的问题"),
}
FIRST_NOTE = ("已联系当事人了解情况", "已上门走访核实", "已组织双方初步沟通", "已安排人员现场查看")
RESULTS = ("经调解双方达成一致", "已督促整改到位", "问题已处置完毕", "已协调相关部门解决")
OPINIONS = ("请加快办理进度", "群众反映强烈，尽快处置", "限期办结并反馈")
INSTRUCTIONS = ("高度重视，妥善处置，防止矛盾激化", "请相关部门密切配合，尽快化解")
APPEALS = ("当事人诉求超出政策范围，评价不客观", "已按规定办理完毕，申请复核")
# Event routing the demo district ships: city components go straight to urban management,
# thefts and fights arriving at a street to the police.
ROUTES = (
    ("city_component", None, Level.COMMUNITY, "CG"),
    ("security_hazard", None, Level.STREET, "GA"),
)


@dataclass(frozen=True)
class _At:
    """A clock stopped at one instant: each action happens when its story says."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant


@dataclass
class Move:
    """One action of a story: who takes it, after how long, with what."""

    action: Action
    actor: str  # "holder", "reporter", "manager"
    delay: timedelta
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Story:
    grid: DemoGrid
    fields: dict[str, Any]
    reported_at: datetime
    on_the_spot: bool
    moves: list[Move]
    event_id: uuid.UUID | None = None
    holder: tuple[uuid.UUID | None, uuid.UUID | None] = (None, None)


def _hours(rng: random.Random, median: float, spread: float = 1.0) -> timedelta:
    """A lognormal delay around `median` hours: most on time, a long tail of late ones."""
    return timedelta(hours=rng.lognormvariate(0, spread) * median)


def _handling(rng: random.Random, *, late: float) -> list[Move]:
    """Accept, give feedback, complete: the acceptance is late in `late` of the cases."""
    accept = _hours(rng, 30 if rng.random() < late else 4, 0.6)
    accepted = {
        "responsible_person": rng.choice(("王建国", "古丽米热", "李明", "阿不都")),
        "responsible_phone": f"139{rng.randrange(10**8):08d}",
    }
    moves = [Move(Action.ACCEPT, "holder", accept, accepted)]
    if rng.random() < 0.85:
        moves.append(
            Move(Action.FEEDBACK, "holder", _hours(rng, 20, 1.2), {"note": rng.choice(FIRST_NOTE)})
        )
    moves.append(
        Move(Action.COMPLETE, "holder", _hours(rng, 30, 1.0), {"result": rng.choice(RESULTS)})
    )
    return moves


def _verify(rng: random.Random, satisfaction: str) -> Move:
    return Move(
        Action.VERIFY,
        "reporter",
        _hours(rng, 6, 0.8),
        {"satisfaction": satisfaction, "method": rng.choice(("phone", "on_site"))},
    )


def plan_story(
    rng: random.Random, grid: DemoGrid, area: GridArea, now: datetime, departments: list[uuid.UUID]
) -> Story:
    """One event's story, from report to wherever it will have got by `now`."""
    category = _pick(rng, CATEGORY_SHARES)
    subtype = rng.choice(list(SUBTYPES[category]))
    title, description = STORIES[subtype]
    # More recent months hold more events (the platform's use grows).
    reported_at = now - YEAR * (rng.random() ** 1.3)
    lon, lat = area.anywhere(rng)
    fields = {
        "title": title,
        "category": category.value,
        "subtype": subtype,
        "grid_id": grid.id,
        "occurred_at": reported_at - _hours(rng, 2),
        "description": description,
        "location": Point(lon, lat),
        "is_major": rng.random() < 0.04,
        "is_urgent": rng.random() < 0.06,
        "involved_count": rng.choice((1, 2, 2, 3, 5, 12)),
        "source": rng.choice([s.value for s in Source]),
    }
    if rng.random() < 0.08:
        return Story(grid, fields, reported_at, True, [])
    moves: list[Move] = []
    route = rng.random()
    if category == Category.CITY_COMPONENT:
        pass  # routed to urban management on arrival
    elif route < 0.15:
        moves.append(Move(Action.DISPATCH, "holder", _hours(rng, 3), {"unit_id": grid.id}))
    elif route < 0.30:
        moves.append(
            Move(
                Action.ACCEPT,
                "holder",
                _hours(rng, 3),
                {"responsible_person": "社区值班员", "responsible_phone": "0998-2822110"},
            )
        )
        moves.append(Move(Action.ESCALATE, "holder", _hours(rng, 24)))
        moves.append(
            Move(
                Action.DISPATCH,
                "holder",
                _hours(rng, 4),
                {"department_id": rng.choice(departments)},
            )
        )
    moves += _handling(rng, late=0.12)
    if rng.random() < 0.06:
        moves.append(_verify(rng, rng.choice(("unsatisfied", "not_implemented"))))
        if rng.random() < 0.4:
            moves.append(
                Move(Action.APPEAL, "holder", _hours(rng, 8), {"reason": rng.choice(APPEALS)})
            )
            moves.append(
                Move(
                    Action.DECIDE_APPEAL,
                    "manager",
                    _hours(rng, 48),
                    {"upheld": rng.random() < 0.5, "note": "经复核"},
                )
            )
        moves += _handling(rng, late=0.3)
    if category != Category.CITY_COMPONENT:
        moves.append(_verify(rng, "satisfied"))
    _mark(rng, moves)
    if rng.random() < STALLED:
        del moves[rng.randrange(len(moves)) :]
    return Story(grid, fields, reported_at, False, moves)


def _mark(rng: random.Random, moves: list[Move]) -> None:
    """Supervision from above: expedite, leader instruction, a manual card, legacy, typical."""
    if rng.random() < 0.05:
        moves.insert(1, Move(Action.EXPEDITE, "manager", _hours(rng, 2)))
    if rng.random() < 0.04:
        moves.insert(
            1, Move(Action.INSTRUCT, "manager", _hours(rng, 3), {"text": rng.choice(INSTRUCTIONS)})
        )
    if rng.random() < 0.04:
        moves.insert(
            1,
            Move(
                Action.SUPERVISE,
                "manager",
                _hours(rng, 20),
                {"level": rng.choice(("normal", "yellow", "red")), "opinion": rng.choice(OPINIONS)},
            ),
        )
    if rng.random() < 0.02:
        # A long-standing case: marked legacy, it stops there.
        del moves[2:]
        moves.append(Move(Action.MARK_LEGACY, "manager", timedelta(days=20)))
    elif rng.random() < 0.03:
        moves.append(Move(Action.MARK_TYPICAL, "manager", timedelta(days=3)))


def _pick(rng: random.Random, shares: dict[Category, float]) -> Category:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


@dataclass(frozen=True)
class _Cast:
    """Who acts in the demo: a principal for every unit and department, and the command
    centre above them all (no `pii:read`: the demo's own reads are masked, not audited)."""

    units: dict[uuid.UUID, tuple[str, str]]  # id → (path, level)
    departments: dict[uuid.UUID, str]  # id → path
    permissions: frozenset[str]

    def unit(self, unit_id: uuid.UUID) -> Principal:
        path, level = self.units[unit_id]
        role = {
            Level.GRID.value: Role.GRID_WORKER,
            Level.COMMUNITY.value: Role.COMMUNITY_STAFF,
            Level.STREET.value: Role.STREET_OPERATOR,
        }.get(level, Role.DISTRICT_OPERATOR)
        return self._principal(unit_id, None, path, role)

    def department(self, department_id: uuid.UUID) -> Principal:
        path = self.departments[department_id]
        return self._principal(None, department_id, path, Role.DEPARTMENT_HANDLER)

    def manager(self) -> Principal:
        return Principal(
            user_id=None,
            username="demo:command-centre",
            full_name="指挥中心（演示）",
            unit_id=None,
            department_id=None,
            scope=SYSTEM_SCOPE,
            roles=(Role.LEADER.value, Role.DISTRICT_OPERATOR.value),
            permissions=self.permissions,
        )

    def _principal(
        self, unit_id: uuid.UUID | None, department_id: uuid.UUID | None, path: str, role: Role
    ) -> Principal:
        return Principal(
            user_id=None,
            username=f"demo:{role.value}",
            full_name="演示账号",
            unit_id=unit_id,
            department_id=department_id,
            scope=path,
            roles=(role.value,),
            permissions=self.permissions,
        )


async def _cast(ctx: Ctx, root: OrgUnit) -> _Cast:
    units = {
        row.id: (row.path, row.level)
        for row in await ctx.session.execute(
            select(OrgUnit.id, OrgUnit.path, OrgUnit.level).where(
                OrgUnit.path.op("<@")(root.path), OrgUnit.deleted_at.is_(None)
            )
        )
    }
    departments = {
        row.id: row.path
        for row in await ctx.session.execute(
            select(Department.id, Department.path).where(
                Department.path.op("<@")(root.path), Department.deleted_at.is_(None)
            )
        )
    }
    return _Cast(units, departments, frozenset(p.value for p in Perm) - {Perm.PII_READ.value})


async def _demo_routes(ctx: Ctx, root: OrgUnit) -> None:
    codes = {
        row.code: row.id
        for row in await ctx.session.execute(
            select(Department.code, Department.id).where(Department.unit_id == root.id)
        )
    }
    for category, subtype, level, code in ROUTES:
        if code in codes:
            await routing.create_rule(
                ctx,
                {
                    "owner_unit_id": root.id,
                    "level": level.value,
                    "category": category,
                    "subtype": subtype,
                    "target_department_id": codes[code],
                    "note": "演示分流规则",
                },
            )


# The next instant after :after at which an open step passes one of its card deadlines.
_NEXT_DEADLINE = text("""
SELECT min(d.at) FROM event_steps s
JOIN events e ON e.id = s.event_id
CROSS JOIN LATERAL (VALUES (s.accept_yellow_at), (s.accept_red_at), (s.handle_yellow_at),
                           (s.handle_red_at)) AS d (at)
WHERE s.finished_at IS NULL AND NOT e.legacy AND e.state <> 'closed' AND d.at > :after
""").bindparams(bindparam("after", type_=DateTime(timezone=True)))


async def _sweep_until(session: Any, after: datetime, until: datetime) -> datetime:
    """Run the supervision sweep at each instant a deadline passes up to `until`, as the
    worker's minute-by-minute cron would have: every card is issued when it falls due."""
    while (due := await session.scalar(_NEXT_DEADLINE, {"after": after})) and due <= until:
        await supervision.sweep(Ctx(session=session, principal=SYSTEM, clock=_At(due)), due)
        after = due
    return until


def _schedule(stories: list[Story]) -> Iterator[tuple[datetime, int, int]]:
    """(instant, story, move index) in time order; -1 is the report itself."""
    heap = [(story.reported_at, i, -1) for i, story in enumerate(stories)]
    heapq.heapify(heap)
    while heap:
        at, i, k = heapq.heappop(heap)
        yield at, i, k
        moves = stories[i].moves
        if k + 1 < len(moves):
            heapq.heappush(heap, (at + moves[k + 1].delay, i, k + 1))


async def load_demo_events(
    ctx: Ctx,
    root_id: uuid.UUID,
    *,
    count: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Play `count` stories under unit `root_id` up to the context's now, in its transaction
    (all or nothing), under the district's enabled assessment rules, and accrue the year's
    assessment. Returns the actions taken or skipped and the assessment lines written."""
    session = ctx.session
    root = await session.get_one(OrgUnit, root_id)
    grids = await demo_grids(session, root)
    cast = await _cast(ctx, root)
    if count <= 0 or not grids:
        return {}
    await _demo_routes(ctx, root)
    await assessment_demo.enable_rule_sets(ctx, root.id)
    rng, now = random.Random(seed), ctx.now()
    areas = {grid.id: GridArea(grid.polygon) for grid in grids}
    departments = list(cast.departments)
    stories = [
        plan_story(rng, grid, areas[grid.id], now, departments)
        for grid in (rng.choice(grids) for _ in range(count))
    ]
    counts = {"actions": 0, "skipped": 0}
    swept = min(story.reported_at for story in stories)
    for done, (at, i, k) in enumerate(_schedule(stories)):
        if at > now:
            continue
        swept = await _sweep_until(session, swept, at)
        taken = await _play(session, cast, stories[i], k, at)
        counts["actions" if taken else "skipped"] += 1
        if progress and done % 500 == 0:
            progress(done, count)
    await _sweep_until(session, swept, now)
    counts.update(await assessment_accrual.accrue(ctx, now))
    # What happened long ago has been read by now.
    await session.execute(
        update(Notification)
        .where(Notification.created_at < now - timedelta(days=3), Notification.read_at.is_(None))
        .values(read_at=Notification.created_at + timedelta(hours=1))
    )
    return counts


async def _play(session: Any, cast: _Cast, story: Story, k: int, at: datetime) -> bool:
    """Take one move of a story (k = -1: report it); a move the event's state no longer
    allows (it went elsewhere meanwhile) is skipped, undone to its savepoint."""
    try:
        async with session.begin_nested():
            if k < 0:
                ctx = Ctx(session=session, principal=cast.unit(story.grid.id), clock=_At(at))
                event = await events.report_event(
                    ctx, story.fields, resolve_on_spot=story.on_the_spot, result="现场劝导化解"
                )
                story.event_id = event["id"]
            else:
                event = await _move(session, cast, story, story.moves[k], at)
    except DomainError:
        return False
    step = event["current_step"] or {}
    story.holder = (step.get("unit_id"), step.get("department_id"))
    return True


async def _move(session: Any, cast: _Cast, story: Story, move: Move, at: datetime) -> Any:
    unit_id, department_id = story.holder
    if move.actor == "manager":
        principal = cast.manager()
    elif move.actor == "reporter":
        principal = cast.unit(story.grid.id)
    elif department_id is not None:
        principal = cast.department(department_id)
    else:
        assert unit_id is not None
        principal = cast.unit(unit_id)
    ctx = Ctx(session=session, principal=principal, clock=_At(at))
    assert story.event_id is not None
    if move.action == Action.SUPERVISE:
        return await supervision.supervise(
            ctx,
            story.event_id,
            level=CardLevel(move.payload["level"]),
            opinion=move.payload["opinion"],
            expected_version=None,
        )
    return await event_actions.take_action(
        ctx, story.event_id, move.action, move.payload, expected_version=None
    )

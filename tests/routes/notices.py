"""Route table of notices (R-NOTE-1) and the factory their tests share: a notice issued by
street S1 to its subtree, through the service as the system."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import notices
from services.clock import Clock
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup


async def make_notice(session: AsyncSession, clock: Clock, world: World, **values: Any) -> Any:
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "unit_id": world.s1.id,
        "title": "关于开展冬季消防安全排查的通知",
        "body": "请各社区于本周五前完成辖区消防通道排查。",
        "user_ids": None,
        "sms": False,
        **values,
    }
    return await notices.send_notice(ctx, **fields)


async def _seed(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_notice(session, clock, world))["id"]]


async def _one(session: AsyncSession, world: World, clock: Clock) -> Call:
    notice = await make_notice(session, clock, world)
    return Call(f"/api/v1/notices/{notice['id']}")


UNSCOPED: set[tuple[str, str]] = {("GET", "/api/v1/notices"), ("GET", "/api/v1/notices/export")}

LISTS: list[ListEntry] = [("/api/v1/notices", _seed)]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/notices"): lambda w: Call(
        "/api/v1/notices", {"unit_id": str(w.s1.id), "title": "通知", "body": "内容"}
    ),
    ("GET", "/api/v1/notices/{notice_id}"): _one,
}

"""System-wide settings (系统设置): a fixed catalogue of keys, each with a validated value and
a default; stored rows override the defaults. Changes are versioned and audited."""

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.duplicates import DEFAULT_RADIUS_M, DEFAULT_WINDOW_DAYS
from domain.errors import FieldError, Invalid, NotFound
from domain.events import Category
from domain.tags import LinkMode
from domain.versioning import check_version
from domain.workflow import PROCESSES, process_for
from services import audit, reference_data
from services.context import Ctx
from services.models import SystemSetting

TAG_LINK_MODE = "tag_link_mode"
EVENT_PROCESSES = "event_processes"
DUPLICATE_RADIUS_M = "event_duplicate_radius_m"
DUPLICATE_WINDOW_DAYS = "event_duplicate_window_days"


def _known_process(code: str) -> str:
    if code not in PROCESSES:
        raise ValueError(f"unknown process {code!r}; known: {', '.join(sorted(PROCESSES))}")
    return code


# Every category bound to a known process; categories left out follow the default one.
_ProcessBindings = dict[Category, Annotated[str, AfterValidator(_known_process)]]


@dataclass(frozen=True)
class SettingSpec:
    adapter: TypeAdapter[Any]
    default: Any
    description: str


SETTINGS: dict[str, SettingSpec] = {
    TAG_LINK_MODE: SettingSpec(
        # Strict: a JSON `true` or "2" is a mistake, not a mode.
        TypeAdapter(Annotated[StrictInt, AfterValidator(LinkMode)]),
        LinkMode.CREATE_PERSON,
        "业务人员与实有人口的关联方式（R-LINK-1）：1 相互独立；2 须先登记实有人口；"
        "3 登记业务人员时自动新增实有人口",
    ),
    EVENT_PROCESSES: SettingSpec(
        TypeAdapter(_ProcessBindings),
        {category: process_for(category).code for category in Category},
        "事件类别与处置流程的绑定（R-WF-4）：类别 → 流程（default 标准处置流程；"
        "component 城市部件处置流程，无需核查）；新上报的事件按此选择流程",
    ),
    DUPLICATE_RADIUS_M: SettingSpec(
        TypeAdapter(Annotated[StrictInt, Field(ge=1, le=10_000)]),
        DEFAULT_RADIUS_M,
        "疑似重复事件的距离范围（米，R-EVT-3）：同类别、此距离内的未办结事件提示为疑似重复",
    ),
    DUPLICATE_WINDOW_DAYS: SettingSpec(
        TypeAdapter(Annotated[StrictInt, Field(ge=1, le=365)]),
        DEFAULT_WINDOW_DAYS,
        "疑似重复事件的时间范围（天，R-EVT-3）：发生时间前后此天数内的事件参与比对",
    ),
}


def _spec(key: str) -> SettingSpec:
    spec = SETTINGS.get(key)
    if spec is None:
        raise NotFound("setting_not_found", params={"key": key})
    return spec


def _out(key: str, row: SystemSetting | None) -> dict[str, Any]:
    spec = SETTINGS[key]
    return {
        "key": key,
        "value": row.value if row else spec.default,
        "description": spec.description,
        "version": row.version if row else 0,
        "updated_at": row.updated_at if row else None,
        "updated_by": row.updated_by if row else None,
    }


async def list_settings(ctx: Ctx) -> list[dict[str, Any]]:
    """Every known setting with its current value (the default when never stored)."""
    rows = {
        row.key: row
        for row in (
            await ctx.session.execute(
                select(SystemSetting).where(SystemSetting.key.in_(list(SETTINGS)))
            )
        ).scalars()
    }
    return [_out(key, rows.get(key)) for key in sorted(SETTINGS)]


async def _load(session: AsyncSession) -> dict[str, Any]:
    """The stored values of the known settings, validated once for as long as they are held."""
    rows = await session.execute(select(SystemSetting.key, SystemSetting.value))
    return {
        row.key: SETTINGS[row.key].adapter.validate_python(row.value)
        for row in rows
        if row.key in SETTINGS and row.value is not None
    }


# Every report and import reads a setting: the stored values are held per process.
_HELD = reference_data.Held(reference_data.SETTINGS, _load)


async def get_value(ctx: Ctx, key: str) -> Any:
    """The validated current value of a setting."""
    spec = _spec(key)
    return (await _HELD.get(ctx.session)).get(key, spec.default)


async def tag_link_mode(ctx: Ctx) -> LinkMode:
    """R-LINK-1: how business tags relate to the actual population."""
    mode: LinkMode = await get_value(ctx, TAG_LINK_MODE)
    return mode


async def put_setting(
    ctx: Ctx, key: str, value: Any, *, expected_version: int | None
) -> dict[str, Any]:
    """Set a setting to a validated value (If-Match guards against a lost update); audited."""
    spec = _spec(key)
    try:
        parsed = spec.adapter.validate_python(value)
    except ValidationError as exc:
        raise Invalid(
            "setting_value_invalid",
            params={"key": key},
            errors=[FieldError("value", "field_invalid", {"detail": exc.errors()[0]["msg"]})],
        ) from exc
    stored = spec.adapter.dump_python(parsed, mode="json")
    # Make sure the row exists (version 0 = the default), then lock it: concurrent writers
    # queue on the lock and If-Match decides between them.
    await ctx.session.execute(
        insert(SystemSetting)
        .values(
            key=key,
            value=spec.adapter.dump_python(spec.default, mode="json"),
            version=0,
            updated_at=ctx.now(),
        )
        .on_conflict_do_nothing(index_elements=[SystemSetting.key])
    )
    row = (
        await ctx.session.execute(
            select(SystemSetting)
            .where(SystemSetting.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    check_version(expected_version, row.version)
    before = {"value": row.value}
    row.value = stored
    row.version += 1
    row.updated_at = ctx.now()
    row.updated_by = ctx.principal.user_id
    await ctx.session.flush()
    reference_data.changed(ctx.session, reference_data.SETTINGS)
    await audit.record(
        ctx,
        action="setting.update",
        target_type="setting",
        target_id=key,
        # System-wide: filed under the changer's own jurisdiction.
        unit_path=None if ctx.principal.sees_everything else ctx.principal.scope,
        before=before,
        after={"value": stored},
    )
    return _out(key, row)

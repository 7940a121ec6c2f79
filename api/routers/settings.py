"""System-wide settings (系统设置), e.g. the tag linkage mode (R-LINK-1)."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from api.deps import requires
from api.etag import expected_version, set_etag
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.tags import SettingOut, SettingUpdate
from domain.permissions import Perm
from services import settings_store
from services.context import Ctx

router = APIRouter(prefix="/api/v1/settings", tags=["settings"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=list[SettingOut])
async def list_settings(ctx: Annotated[Ctx, requires(Perm.SELF_READ)]) -> list[SettingOut]:
    """Every setting with its current value: any signed-in user may read them, since they
    shape the forms everyone fills in."""
    return [SettingOut.model_validate(row) for row in await settings_store.list_settings(ctx)]


@router.put("/{key}", response_model=SettingOut)
async def put_setting(
    key: Annotated[str, Path(max_length=64)],
    body: SettingUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.SETTING_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> SettingOut:
    """Change a setting (validated for its key, audited); `If-Match` guards lost updates."""
    out = SettingOut.model_validate(
        await settings_store.put_setting(
            ctx, key, body.value, expected_version=expected_version(if_match)
        )
    )
    set_etag(response, out.version)
    return out

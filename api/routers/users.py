"""Users and roles (R-ORG-3)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.users import USER_COLUMNS, RoleOut, UserCreate, UserOut, UserUpdate
from domain.errors import PermissionDenied
from domain.masking import Mask
from domain.permissions import Perm
from services import roles, users
from services.context import Ctx

router = APIRouter(prefix="/api/v1", tags=["users"], responses=PROBLEM_RESPONSES)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def create_user(
    body: UserCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.USER_WRITE)]
) -> UserOut:
    out = UserOut.model_validate(
        await users.create_user(
            ctx,
            username=body.username,
            password=body.password,
            full_name=body.full_name,
            phone=body.phone,
            unit_id=body.unit_id,
            department_id=body.department_id,
            roles=body.roles,
        )
    )
    set_etag(response, out.version)
    response.headers["Location"] = f"/api/v1/users/{out.id}"
    return out


@router.get("/users", response_model=PageOut[UserOut])
async def list_users(
    ctx: Annotated[Ctx, requires(Perm.USER_READ)],
    page: Paging,
    unit_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> PageOut[UserOut]:
    result = await users.list_users(ctx, limit=page.limit, cursor=page.cursor, unit_id=unit_id, q=q)
    return PageOut[UserOut].model_validate(result, from_attributes=True)


@router.get("/users/export", response_class=StreamingResponse)
async def export_users(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    unit_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered user list as CSV or XLSX; phones masked without pii:read (R-EXP-1)."""
    if not ctx.principal.can(Perm.USER_READ):
        raise PermissionDenied()
    return await export_list(
        request,
        ctx,
        users.users_query(ctx, unit_id=unit_id, q=q),
        USER_COLUMNS,
        fmt=format,
        filename="用户",
        target_type="user",
        filters={"unit_id": unit_id, "q": q},
        mask={"phone": Mask.PHONE},
    )


@router.get("/users/{user_id}", response_model=UserOut)
async def get_user(
    user_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.USER_READ)]
) -> UserOut:
    out = UserOut.model_validate(await users.get_user(ctx, user_id))
    set_etag(response, out.version)
    return out


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.USER_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> UserOut:
    changes = users.UserChanges(
        fields=frozenset(body.model_fields_set),
        full_name=body.full_name,
        phone=body.phone,
        is_active=body.is_active,
        password=body.password,
        roles=body.roles,
    )
    out = UserOut.model_validate(
        await users.update_user(ctx, user_id, changes, expected_version=expected_version(if_match))
    )
    set_etag(response, out.version)
    return out


@router.get("/roles", response_model=list[RoleOut])
async def list_roles(ctx: Annotated[Ctx, requires(Perm.ROLE_READ)]) -> list[RoleOut]:
    """Roles with their permissions: the grants are data (R-ORG-3)."""
    return [RoleOut.model_validate(role) for role in await roles.list_roles(ctx)]

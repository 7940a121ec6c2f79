"""Functional departments (R-ORG-2)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.org import (
    DEPARTMENT_COLUMNS,
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
)
from domain.permissions import Perm
from services import departments
from services.context import Ctx

router = APIRouter(prefix="/api/v1/departments", tags=["departments"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DepartmentOut)
async def create_department(
    body: DepartmentCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.DEPARTMENT_WRITE)]
) -> DepartmentOut:
    out = DepartmentOut.model_validate(
        await departments.create_department(
            ctx, code=body.code, name=body.name, unit_id=body.unit_id
        )
    )
    set_etag(response, out.version)
    response.headers["Location"] = f"/api/v1/departments/{out.id}"
    return out


@router.get("", response_model=PageOut[DepartmentOut])
async def list_departments(
    ctx: Annotated[Ctx, requires(Perm.DEPARTMENT_READ)],
    page: Paging,
    unit_id: uuid.UUID | None = None,
) -> PageOut[DepartmentOut]:
    result = await departments.list_departments(
        ctx, limit=page.limit, cursor=page.cursor, unit_id=unit_id
    )
    return PageOut[DepartmentOut].model_validate(result, from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_departments(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    unit_id: uuid.UUID | None = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        departments.departments_query(ctx, unit_id=unit_id),
        DEPARTMENT_COLUMNS,
        fmt=format,
        filename="职能部门",
        target_type="department",
        filters={"unit_id": unit_id},
    )


@router.get("/{department_id}", response_model=DepartmentOut)
async def get_department(
    department_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DEPARTMENT_READ)],
) -> DepartmentOut:
    out = DepartmentOut.model_validate(await departments.get_department(ctx, department_id))
    set_etag(response, out.version)
    return out


@router.patch("/{department_id}", response_model=DepartmentOut)
async def rename_department(
    department_id: uuid.UUID,
    body: DepartmentUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DEPARTMENT_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> DepartmentOut:
    out = DepartmentOut.model_validate(
        await departments.rename_department(
            ctx, department_id, name=body.name, expected_version=expected_version(if_match)
        )
    )
    set_etag(response, out.version)
    return out


@router.delete("/{department_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_department(
    department_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.DEPARTMENT_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> None:
    """Refused with 409 while active users belong to the department."""
    await departments.delete_department(
        ctx, department_id, expected_version=expected_version(if_match), reason=reason
    )

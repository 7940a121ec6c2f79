"""Service teams (R-TEAM-1): teams, their members and the service records they keep."""

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version
from api.exporting import ExportFormat, export_list
from api.registry_routes import IfMatch, shown
from api.schemas.common import PROBLEM_RESPONSES, PageOut, in_business_zone
from api.schemas.places import (
    MEMBER_COLUMNS,
    SERVICE_RECORD_COLUMNS,
    TEAM_COLUMNS,
    MemberCreate,
    MemberOut,
    MemberUpdate,
    OptionalReasonIn,
    ReasonIn,
    ServiceRecordCreate,
    ServiceRecordOut,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from domain.permissions import Perm
from services import teams
from services.context import Ctx
from services.places import flat
from services.teams import MEMBERS, TEAMS, MemberFilter, RecordFilter, TeamFilter

router = APIRouter(prefix="/api/v1", tags=["teams"], responses=PROBLEM_RESPONSES)


# --- teams ----------------------------------------------------------------------------------


@router.post("/teams", status_code=status.HTTP_201_CREATED, response_model=TeamOut)
async def create_team(
    body: TeamCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)]
) -> TeamOut:
    """A team at any level (`unit_id` any unit of the caller's jurisdiction)."""
    data = await teams.create_team(
        ctx,
        unit_id=body.unit_id,
        category=body.category,
        values=body.model_dump(exclude={"unit_id", "category"}),
    )
    return shown(response, TeamOut, data, f"/api/v1/teams/{data['id']}")


@router.get("/teams", response_model=PageOut[TeamOut])
async def list_teams(
    ctx: Annotated[Ctx, requires(Perm.TEAM_READ)],
    page: Paging,
    filters: Annotated[TeamFilter, Depends()],
) -> PageOut[TeamOut]:
    """By name; `unit_id` gives the teams of a unit's subtree; `q` matches name or leader."""
    result = await teams.list_teams(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[TeamOut].model_validate(result, from_attributes=True)


@router.get("/teams/export", response_class=StreamingResponse)
async def export_teams(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Annotated[TeamFilter, Depends()],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        teams.teams_query(ctx, filters).order_by(*TEAMS.order),
        TEAM_COLUMNS,
        fmt=format,
        filename="服务团队",
        target_type="team",
        filters=vars(filters),
        mask=TEAMS.mask,
        convert=TEAMS.export_row,
    )


@router.get("/teams/{team_id}", response_model=TeamOut)
async def get_team(
    team_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.TEAM_READ)]
) -> TeamOut:
    return shown(response, TeamOut, await TEAMS.get(ctx, team_id))


@router.patch("/teams/{team_id}", response_model=TeamOut)
async def update_team(
    team_id: uuid.UUID,
    body: TeamUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    if_match: IfMatch = None,
) -> TeamOut:
    data = await teams.update_team(
        ctx,
        team_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return shown(response, TeamOut, data)


@router.post("/teams/{team_id}/dissolve", response_model=TeamOut)
async def dissolve_team(
    team_id: uuid.UUID,
    body: ReasonIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    if_match: IfMatch = None,
) -> TeamOut:
    """Deregister the team and detach its members; members and records stay readable."""
    data = await teams.dissolve_team(
        ctx, team_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return shown(response, TeamOut, data)


@router.post("/teams/{team_id}/restore", response_model=TeamOut)
async def restore_team(
    team_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    body: OptionalReasonIn | None = None,
    if_match: IfMatch = None,
) -> TeamOut:
    """Active again; detached members are restored one by one."""
    data = await TEAMS.restore(
        ctx,
        team_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return shown(response, TeamOut, data)


# --- members --------------------------------------------------------------------------------


@router.post(
    "/teams/{team_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberOut
)
async def add_member(
    team_id: uuid.UUID,
    body: MemberCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
) -> MemberOut:
    """A person record (`person_id`) or a name and phone, holding one or more posts."""
    data = await teams.add_member(
        ctx,
        team_id,
        person_id=body.person_id,
        name=body.name,
        phone=body.phone,
        posts=body.posts,
        joined_on=body.joined_on,
    )
    return shown(response, MemberOut, data, f"/api/v1/team-members/{data['id']}")


@router.get("/teams/{team_id}/members", response_model=PageOut[MemberOut])
async def list_members(
    team_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.TEAM_READ)],
    page: Paging,
    filters: Annotated[MemberFilter, Depends()],
) -> PageOut[MemberOut]:
    result = await teams.list_members(ctx, team_id, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[MemberOut].model_validate(result, from_attributes=True)


@router.get("/teams/{team_id}/members/export", response_class=StreamingResponse)
async def export_members(
    team_id: uuid.UUID,
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Annotated[MemberFilter, Depends()],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    await TEAMS.ensure_visible(ctx, team_id)
    return await export_list(
        request,
        ctx,
        teams.members_query(ctx, team_id, filters).order_by(*MEMBERS.order),
        MEMBER_COLUMNS,
        fmt=format,
        filename="团队成员",
        target_type="team_member",
        filters={**vars(filters), "team_id": team_id},
        mask=MEMBERS.mask,
        convert=MEMBERS.export_row,
    )


@router.get("/team-members/{member_id}", response_model=MemberOut)
async def get_member(
    member_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.TEAM_READ)]
) -> MemberOut:
    return shown(response, MemberOut, await MEMBERS.get(ctx, member_id))


@router.patch("/team-members/{member_id}", response_model=MemberOut)
async def update_member(
    member_id: uuid.UUID,
    body: MemberUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    if_match: IfMatch = None,
) -> MemberOut:
    data = await teams.update_member(
        ctx,
        member_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return shown(response, MemberOut, data)


@router.post("/team-members/{member_id}/deregister", response_model=MemberOut)
async def deregister_member(
    member_id: uuid.UUID,
    body: ReasonIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    if_match: IfMatch = None,
) -> MemberOut:
    """The member no longer holds posts in the team and can't be put on new records."""
    data = await MEMBERS.deregister(
        ctx, member_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return shown(response, MemberOut, data)


@router.post("/team-members/{member_id}/restore", response_model=MemberOut)
async def restore_member(
    member_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    body: OptionalReasonIn | None = None,
    if_match: IfMatch = None,
) -> MemberOut:
    """Back in the team (409 `team_dissolved` while the team is dissolved)."""
    data = await teams.restore_member(
        ctx,
        member_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return shown(response, MemberOut, data)


@router.delete("/team-members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_member(
    member_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    if_match: IfMatch = None,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> None:
    """Refused with 409 `member_has_records` when the member is on a service record."""
    await teams.delete_member(
        ctx, member_id, expected_version=expected_version(if_match), reason=reason
    )


# --- service records ------------------------------------------------------------------------


def _zoned(f: RecordFilter) -> RecordFilter:
    """Period bounds sent without an offset are business time (+08:00, API.md)."""
    return replace(
        f,
        served_from=in_business_zone(f.served_from) if f.served_from else None,
        served_to=in_business_zone(f.served_to) if f.served_to else None,
    )


@router.post(
    "/service-records", status_code=status.HTTP_201_CREATED, response_model=ServiceRecordOut
)
async def create_service_record(
    body: ServiceRecordCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
) -> ServiceRecordOut:
    """Serving members all of the record's team and active; served business persons all of
    one kind (else 422)."""
    data = await teams.create_record(
        ctx,
        team_id=body.team_id,
        member_ids=body.member_ids,
        tag_ids=body.tag_ids,
        served_at=in_business_zone(body.served_at),
        title=body.title,
        content=body.content,
    )
    response.headers["Location"] = f"/api/v1/service-records/{data['id']}"
    return ServiceRecordOut.model_validate(data)


@router.get("/service-records", response_model=PageOut[ServiceRecordOut])
async def list_service_records(
    ctx: Annotated[Ctx, requires(Perm.TEAM_READ)],
    page: Paging,
    filters: Annotated[RecordFilter, Depends()],
) -> PageOut[ServiceRecordOut]:
    """Newest first; by team, member, served business person or kind; `q` in the text."""
    result = await teams.list_records(ctx, _zoned(filters), limit=page.limit, cursor=page.cursor)
    return PageOut[ServiceRecordOut].model_validate(result, from_attributes=True)


@router.get("/service-records/export", response_class=StreamingResponse)
async def export_service_records(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Annotated[RecordFilter, Depends()],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        teams.records_query(ctx, _zoned(filters)).order_by(*teams.RECORD_ORDER),
        SERVICE_RECORD_COLUMNS,
        fmt=format,
        filename="服务记录",
        target_type="service_record",
        filters=vars(filters),
        convert=lambda row: flat(dict(row._mapping)),
    )


@router.get("/service-records/{record_id}", response_model=ServiceRecordOut)
async def get_service_record(
    record_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.TEAM_READ)]
) -> ServiceRecordOut:
    return ServiceRecordOut.model_validate(await teams.get_record(ctx, record_id))

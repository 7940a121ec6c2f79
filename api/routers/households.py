"""Households (户籍家庭, R-HH-1) and families (广义家庭, R-HH-2): one set of routes, mounted
twice — at /api/v1/households and at /api/v1/families."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, Input, PageOut
from api.schemas.people import (
    FamilyCreate,
    FamilyOut,
    FamilyPage,
    FamilyRenumber,
    GroupCreate,
    GroupOut,
    GroupRenumber,
    HeadIn,
    HouseholdCreate,
    HouseholdOut,
    HouseholdPage,
    HouseholdRenumber,
    MemberIn,
    group_columns,
)
from domain.permissions import Perm
from domain.registry import Status
from services import households
from services.context import Ctx
from services.exporting import Column
from services.households import GroupFilters, GroupKind

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class GroupApi:
    kind: GroupKind
    prefix: str
    tag: str
    id_param: str
    create: type[GroupCreate]
    renumber: type[GroupRenumber]
    out: type[GroupOut]
    page: type[PageOut[Any]]
    columns: list[Column]
    filename: str


def _with_body(handler: Handler, model: type[Input]) -> Handler:
    """FastAPI takes a route's request model from the annotation of its `body` parameter:
    the shared handlers get the kind's own model (its number named after the kind)."""
    handler.__annotations__["body"] = model
    return handler


def group_router(api: GroupApi) -> APIRouter:
    """The routes of one kind of group, all served by `services.households`."""
    kind = api.kind
    router = APIRouter(prefix=api.prefix, tags=[api.tag], responses=PROBLEM_RESPONSES)
    name = kind.target_type
    item = "/{" + api.id_param + "}"

    def shown(group: dict[str, Any], response: Response) -> GroupOut:
        out = api.out.model_validate(group)
        set_etag(response, out.version)
        return out

    async def create(
        body: GroupCreate,
        response: Response,
        ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
    ) -> GroupOut:
        """A group in a grid; a head given becomes its first member."""
        group = await households.create_group(
            ctx,
            kind,
            grid_id=body.grid_id,
            number=body.number,
            head_person_id=body.head_person_id,
            address=body.address,
        )
        response.headers["Location"] = f"{api.prefix}/{group['id']}"
        return shown(group, response)

    router.post(
        "", status_code=status.HTTP_201_CREATED, response_model=api.out, name=f"create_{name}"
    )(_with_body(create, api.create))

    @router.get("", response_model=api.page, name=f"list_{name}")
    async def list_groups(
        ctx: Annotated[Ctx, requires(Perm.POPULATION_READ)],
        page: Paging,
        unit_id: Annotated[uuid.UUID | None, Query(description="any unit: its subtree")] = None,
        q: Annotated[str | None, Query(max_length=100, description="number or address")] = None,
        status: Status | None = None,
    ) -> PageOut[Any]:
        filters = GroupFilters(unit_id=unit_id, q=q, status=status)
        result = await households.list_groups(
            ctx, kind, filters, limit=page.limit, cursor=page.cursor
        )
        return api.page.model_validate(result, from_attributes=True)

    @router.get("/export", response_class=StreamingResponse, name=f"export_{name}")
    async def export_groups(
        request: Request,
        ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
        unit_id: uuid.UUID | None = None,
        q: Annotated[str | None, Query(max_length=100)] = None,
        status: Status | None = None,
        format: ExportFormat = ExportFormat.XLSX,
    ) -> StreamingResponse:
        """The filtered list as CSV or XLSX, masked like the list (R-EXP-1)."""
        filters = GroupFilters(unit_id=unit_id, q=q, status=status)
        return await export_list(
            request,
            ctx,
            await households.groups_query(ctx, kind, filters),
            api.columns,
            fmt=format,
            filename=api.filename,
            target_type=name,
            filters=vars(filters),
            mask=households.GROUP_MASKS,
        )

    @router.get(item, response_model=api.out, name=f"get_{name}")
    async def get_group(
        group_id: Annotated[uuid.UUID, Path(alias=api.id_param)],
        response: Response,
        ctx: Annotated[Ctx, requires(Perm.POPULATION_READ)],
    ) -> GroupOut:
        """The group with its members and their relation to the head."""
        return shown(await households.get_group(ctx, kind, group_id), response)

    @router.delete(item, status_code=status.HTTP_204_NO_CONTENT, name=f"delete_{name}")
    async def delete_group(
        group_id: Annotated[uuid.UUID, Path(alias=api.id_param)],
        ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
        if_match: Annotated[str | None, Header()] = None,
        reason: Annotated[str | None, Query(max_length=500)] = None,
    ) -> None:
        """Deregisters an empty group; one with members is refused (409)."""
        await households.delete_group(
            ctx, kind, group_id, expected_version=expected_version(if_match), reason=reason
        )

    @router.post(f"{item}/members", response_model=api.out, name=f"add_{name}_member")
    async def add_member(
        group_id: Annotated[uuid.UUID, Path(alias=api.id_param)],
        body: MemberIn,
        response: Response,
        ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
        if_match: Annotated[str | None, Header()] = None,
    ) -> GroupOut:
        group = await households.add_member(
            ctx,
            kind,
            group_id,
            person_id=body.person_id,
            relation=body.relation,
            expected_version=expected_version(if_match),
        )
        return shown(group, response)

    @router.delete(
        item + "/members/{person_id}",
        response_model=api.out,
        name=f"remove_{name}_member",
    )
    async def remove_member(
        group_id: Annotated[uuid.UUID, Path(alias=api.id_param)],
        person_id: uuid.UUID,
        response: Response,
        ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
        if_match: Annotated[str | None, Header()] = None,
    ) -> GroupOut:
        """The head leaves only as the last member; change the head first."""
        group = await households.remove_member(
            ctx, kind, group_id, person_id, expected_version=expected_version(if_match)
        )
        return shown(group, response)

    @router.post(f"{item}/head", response_model=api.out, name=f"change_{name}_head")
    async def change_head(
        group_id: Annotated[uuid.UUID, Path(alias=api.id_param)],
        body: HeadIn,
        response: Response,
        ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
        if_match: Annotated[str | None, Header()] = None,
    ) -> GroupOut:
        """A member becomes the head; the former head keeps `former_head_relation`."""
        group = await households.change_head(
            ctx,
            kind,
            group_id,
            person_id=body.person_id,
            former_head_relation=body.former_head_relation,
            expected_version=expected_version(if_match),
        )
        return shown(group, response)

    async def renumber(
        group_id: Annotated[uuid.UUID, Path(alias=api.id_param)],
        body: GroupRenumber,
        response: Response,
        ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
        if_match: Annotated[str | None, Header()] = None,
    ) -> GroupOut:
        """A new number, unique among active groups of the kind (409 when taken)."""
        group = await households.renumber(
            ctx,
            kind,
            group_id,
            number=body.number,
            expected_version=expected_version(if_match),
        )
        return shown(group, response)

    router.post(f"{item}/renumber", response_model=api.out, name=f"renumber_{name}")(
        _with_body(renumber, api.renumber)
    )
    return router


household_router = group_router(
    GroupApi(
        kind=households.HOUSEHOLDS,
        prefix="/api/v1/households",
        tag="households",
        id_param="household_id",
        create=HouseholdCreate,
        renumber=HouseholdRenumber,
        out=HouseholdOut,
        page=HouseholdPage,
        columns=group_columns("户号"),
        filename="户籍家庭",
    )
)
family_router = group_router(
    GroupApi(
        kind=households.FAMILIES,
        prefix="/api/v1/families",
        tag="families",
        id_param="family_id",
        create=FamilyCreate,
        renumber=FamilyRenumber,
        out=FamilyOut,
        page=FamilyPage,
        columns=group_columns("家庭编号"),
        filename="家庭",
    )
)

"""Business tags on people (业务人员: key persons and care objects, SPEC §3.2)."""

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.tags import (
    ConvertIn,
    RefollowIn,
    StatusChangeOut,
    TagCreate,
    TagKindOut,
    TagOut,
    TagUpdate,
    UnfollowIn,
)
from domain.errors import PermissionDenied
from domain.permissions import Perm
from domain.registry import FollowStatus
from domain.tags import KINDS, TagKind
from services import tags
from services.context import Ctx

router = APIRouter(prefix="/api/v1", tags=["tags"], responses=PROBLEM_RESPONSES)


def tag_filters(
    unit_id: Annotated[uuid.UUID | None, Query(description="Any unit: tags in its subtree")] = None,
    kind: TagKind | None = None,
    status: FollowStatus | None = None,
    automatic: bool | None = None,
    q: Annotated[
        str | None, Query(max_length=64, description="Name fragment or full ID number")
    ] = None,
) -> tags.TagFilters:
    return tags.TagFilters(unit_id=unit_id, kind=kind, status=status, automatic=automatic, q=q)


Filters = Annotated[tags.TagFilters, Depends(tag_filters)]


def _page(result: object) -> PageOut[TagOut]:
    return PageOut[TagOut].model_validate(result, from_attributes=True)


def _one(response: Response, record: dict[str, object]) -> TagOut:
    out = TagOut.model_validate(record)
    set_etag(response, out.version)
    return out


@router.get("/tag-kinds", response_model=list[TagKindOut])
async def list_tag_kinds(ctx: Annotated[Ctx, requires(Perm.TAG_READ)]) -> list[TagKindOut]:
    """The tag kinds (R-KEY-1, R-CARE-1): label, who may carry them, the details' schema."""
    return [
        TagKindOut(
            kind=kind,
            label=spec.label,
            group=spec.group,
            min_age=spec.min_age,
            max_age=spec.max_age,
            gender=spec.gender,
            details_schema=spec.details.model_json_schema(),
        )
        for kind, spec in KINDS.items()
    ]


@router.post("/tags", status_code=status.HTTP_201_CREATED, response_model=TagOut)
async def create_tag(
    body: TagCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.TAG_WRITE)]
) -> TagOut:
    """Add a followed tag at grid level; linked to (or creating) the actual person as the
    `tag_link_mode` setting says (R-LINK-1)."""
    out = _one(
        response,
        await tags.create_tag(
            ctx,
            grid_id=body.grid_id,
            kind=body.kind,
            id_number=body.id_number,
            name=body.name,
            details=body.details,
            person_kind=body.person_kind,
        ),
    )
    response.headers["Location"] = f"/api/v1/tags/{out.id}"
    return out


@router.get("/tags", response_model=PageOut[TagOut])
async def list_tags(
    ctx: Annotated[Ctx, requires(Perm.TAG_READ)],
    page: Paging,
    filters: Filters,
    person_id: uuid.UUID | None = None,
) -> PageOut[TagOut]:
    return _page(
        await tags.list_tags(
            ctx,
            dataclasses.replace(filters, person_id=person_id),
            limit=page.limit,
            cursor=page.cursor,
        )
    )


@router.get("/tags/export", response_class=StreamingResponse)
async def export_tags(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Filters,
    person_id: uuid.UUID | None = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered tag list as CSV or XLSX, one column per detail field, masked like the
    list (R-EXP-1, R-JUR-3)."""
    if not ctx.principal.can(Perm.TAG_READ):
        raise PermissionDenied()
    filters = dataclasses.replace(filters, person_id=person_id)
    return await export_list(
        request,
        ctx,
        await tags.tags_query(ctx, filters),
        tags.export_columns(filters.kind),
        fmt=format,
        filename="业务人员",
        target_type=tags.TARGET,
        filters=dataclasses.asdict(filters),
        mask=tags.EXPORT_MASKS,
        convert=tags.export_row,
    )


@router.get("/tags/{tag_id}", response_model=TagOut)
async def get_tag(
    tag_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.TAG_READ)]
) -> TagOut:
    return _one(response, await tags.get_tag(ctx, tag_id))


@router.patch("/tags/{tag_id}", response_model=TagOut)
async def update_tag(
    tag_id: uuid.UUID,
    body: TagUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TAG_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> TagOut:
    return _one(
        response,
        await tags.update_tag(
            ctx,
            tag_id,
            name=body.name,
            details=body.details,
            expected_version=expected_version(if_match),
        ),
    )


@router.post("/tags/{tag_id}/unfollow", response_model=TagOut)
async def unfollow_tag(
    tag_id: uuid.UUID,
    body: UnfollowIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TAG_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> TagOut:
    """取消关注 with a reason; the time and the reason are kept in the history."""
    return _one(
        response,
        await tags.unfollow_tag(
            ctx, tag_id, reason=body.reason, expected_version=expected_version(if_match)
        ),
    )


@router.post("/tags/{tag_id}/refollow", response_model=TagOut)
async def refollow_tag(
    tag_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TAG_WRITE)],
    body: RefollowIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> TagOut:
    """重新关注; 409 `duplicate_active_record` while another followed tag of the same
    (grid, kind, ID number) exists."""
    return _one(
        response,
        await tags.refollow_tag(
            ctx,
            tag_id,
            reason=body.reason if body else None,
            expected_version=expected_version(if_match),
        ),
    )


@router.post("/tags/{tag_id}/convert", status_code=status.HTTP_201_CREATED, response_model=TagOut)
async def convert_tag(
    tag_id: uuid.UUID,
    body: ConvertIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TAG_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> TagOut:
    """R-KEY-2: convert a community-correction person to a released prisoner by hand. The
    source tag is unfollowed with the reason; the new followed tag is returned (201)."""
    out = _one(
        response,
        await tags.convert_tag(
            ctx,
            tag_id,
            kind=body.kind,
            details=body.details,
            reason=body.reason,
            expected_version=expected_version(if_match),
        ),
    )
    response.headers["Location"] = f"/api/v1/tags/{out.id}"
    return out


@router.get("/tags/{tag_id}/history", response_model=list[StatusChangeOut])
async def tag_history(
    tag_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.TAG_READ)]
) -> list[StatusChangeOut]:
    return [StatusChangeOut.model_validate(row) for row in await tags.tag_history(ctx, tag_id)]


@router.get("/people/{person_id}/tags", response_model=PageOut[TagOut])
async def list_person_tags(
    person_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.TAG_READ)],
    page: Paging,
    filters: Filters,
) -> PageOut[TagOut]:
    """The business tags of one actual person (404 outside the caller's jurisdiction)."""
    await tags.check_person(ctx, person_id)
    return _page(
        await tags.list_tags(
            ctx,
            dataclasses.replace(filters, person_id=person_id),
            limit=page.limit,
            cursor=page.cursor,
        )
    )

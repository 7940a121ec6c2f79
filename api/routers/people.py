"""Actual population (实有人口, R-POP-1..5): responses masked by the caller's permission
(R-JUR-3), writes with `If-Match`, every change audited."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.json_out import Shape
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.people import (
    PERSON_COLUMNS,
    PersonCreate,
    PersonOut,
    PersonUpdate,
    ReasonIn,
    RestoreIn,
    SettleIn,
    StatusChangeOut,
)
from domain.people import Kind
from domain.permissions import Perm
from domain.registry import Status
from domain.versioning import etag
from services import people
from services.context import Ctx

router = APIRouter(prefix="/api/v1/people", tags=["people"], responses=PROBLEM_RESPONSES)
# The hot reads answer from the service's rows (api.json_out).
PERSON = Shape(PersonOut)
Q = Annotated[
    str | None,
    Query(max_length=100, description="name (substring), or a whole ID or document number"),
]


def _out(person: dict[str, Any], response: Response) -> PersonOut:
    out = PersonOut.model_validate(person)
    set_etag(response, out.version)
    return out


def _created(person: dict[str, Any], response: Response) -> PersonOut:
    response.headers["Location"] = f"/api/v1/people/{person['id']}"
    return _out(person, response)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PersonOut)
async def create_person(
    body: PersonCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)]
) -> PersonOut:
    """Register a person in a grid; one active record per (grid, ID number) of any kind
    (R-POP-1: a duplicate is 409 `duplicate_active_record`)."""
    person = await people.create_person(
        ctx,
        grid_id=body.grid_id,
        kind=body.kind,
        values=body.model_dump(exclude={"grid_id", "kind"}),
    )
    return _created(person, response)


@router.get("", response_model=PageOut[PersonOut])
async def list_people(
    ctx: Annotated[Ctx, requires(Perm.POPULATION_READ)],
    page: Paging,
    unit_id: Annotated[uuid.UUID | None, Query(description="any unit: its subtree")] = None,
    kind: Kind | None = None,
    status: Status | None = None,
    house_id: uuid.UUID | None = None,
    q: Q = None,
) -> Response:
    filters = people.PersonFilters(
        unit_id=unit_id, kind=kind, status=status, house_id=house_id, q=q
    )
    result = await people.list_people(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PERSON.page_response(result)


@router.get("/export", response_class=StreamingResponse)
async def export_people(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    unit_id: uuid.UUID | None = None,
    kind: Kind | None = None,
    status: Status | None = None,
    house_id: uuid.UUID | None = None,
    q: Q = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered list as CSV or XLSX, masked like the list (R-EXP-1)."""
    filters = people.PersonFilters(
        unit_id=unit_id, kind=kind, status=status, house_id=house_id, q=q
    )
    return await export_list(
        request,
        ctx,
        await people.people_query(ctx, filters),
        PERSON_COLUMNS,
        fmt=format,
        filename="实有人口",
        target_type=people.TARGET,
        filters=vars(filters),
        mask=people.EXPORT_MASKS,
        convert=people.export_row,
    )


@router.get("/{person_id}", response_model=PersonOut)
async def get_person(
    person_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.POPULATION_READ)]
) -> Response:
    person = await people.get_person(ctx, person_id)
    return PERSON.response(person, headers={"ETag": etag(person["version"])})


@router.patch("/{person_id}", response_model=PersonOut)
async def update_person(
    person_id: uuid.UUID,
    body: PersonUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> PersonOut:
    """Change the fields sent; a deregistered person is read-only until restored (409)."""
    person = await people.update_person(
        ctx,
        person_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return _out(person, response)


@router.post("/{person_id}/deregister", response_model=PersonOut)
async def deregister_person(
    person_id: uuid.UUID,
    body: ReasonIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> PersonOut:
    """注销 with a reason; the person leaves their household and family."""
    person = await people.deregister_person(
        ctx, person_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return _out(person, response)


@router.post("/{person_id}/restore", response_model=PersonOut)
async def restore_person(
    person_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
    body: RestoreIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> PersonOut:
    """恢复; refused (409 `duplicate_active_record`) while another active record of the same
    identity exists in the grid."""
    person = await people.restore_person(
        ctx,
        person_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return _out(person, response)


@router.post("/{person_id}/settle", status_code=status.HTTP_201_CREATED, response_model=PersonOut)
async def settle_person(
    person_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.POPULATION_WRITE)],
    body: SettleIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> PersonOut:
    """落户 (R-POP-4): the new registered record; the unsettled one is deregistered with
    reason 已落户."""
    body = body or SettleIn()
    person = await people.settle_person(
        ctx,
        person_id,
        settle_date=body.settle_date,
        changes=body.model_dump(exclude_none=True, exclude={"settle_date"}),
        expected_version=expected_version(if_match),
    )
    return _created(person, response)


@router.post("/{person_id}/reveal", response_model=PersonOut)
async def reveal_person(
    person_id: uuid.UUID,
    body: ReasonIn,
    ctx: Annotated[Ctx, requires(Perm.PII_REVEAL)],
) -> PersonOut:
    """The unmasked record, the reason written to the audit trail (R-JUR-3)."""
    return PersonOut.model_validate(await people.reveal_person(ctx, person_id, reason=body.reason))


@router.get("/{person_id}/history", response_model=list[StatusChangeOut])
async def person_history(
    person_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.POPULATION_READ)]
) -> list[StatusChangeOut]:
    """Deregistrations and restorations with reason and time, oldest first."""
    return [StatusChangeOut.model_validate(c) for c in await people.person_history(ctx, person_id)]

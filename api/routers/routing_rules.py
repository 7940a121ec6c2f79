"""Routing rules (自动分流规则, R-WF-3), maintained by the command centres for their subtree."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.routing import (
    ROUTING_RULE_COLUMNS,
    RoutingRuleCreate,
    RoutingRuleOut,
    RoutingRuleUpdate,
)
from domain.events import Category
from domain.org import Level
from domain.permissions import Perm
from services import routing
from services.context import Ctx
from services.routing import RuleFilter

router = APIRouter(prefix="/api/v1/routing-rules", tags=["routing"], responses=PROBLEM_RESPONSES)


def _filter(
    owner_unit_id: uuid.UUID | None = None,
    category: Category | None = None,
    level: Level | None = None,
    enabled: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> RuleFilter:
    return RuleFilter(
        owner_unit_id=owner_unit_id, category=category, level=level, enabled=enabled, q=q
    )


Filters = Annotated[RuleFilter, Depends(_filter)]


def _shown(response: Response, data: dict[str, object]) -> RoutingRuleOut:
    out = RoutingRuleOut.model_validate(data)
    set_etag(response, out.version)
    return out


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RoutingRuleOut)
async def create_rule(
    body: RoutingRuleCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ROUTING_WRITE)],
) -> RoutingRuleOut:
    """A rule for events arriving at `level` inside the owner's subtree: they go straight to
    the target unit or department."""
    out = _shown(response, await routing.create_rule(ctx, body.model_dump()))
    response.headers["Location"] = f"/api/v1/routing-rules/{out.id}"
    return out


@router.get("", response_model=PageOut[RoutingRuleOut])
async def list_rules(
    ctx: Annotated[Ctx, requires(Perm.EVENT_READ)], page: Paging, flt: Filters
) -> PageOut[RoutingRuleOut]:
    """The rules of the units the caller manages."""
    result = await routing.list_rules(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[RoutingRuleOut].model_validate(result, from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_rules(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Filters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        routing.rules_query(ctx, flt),
        ROUTING_RULE_COLUMNS,
        fmt=format,
        filename="自动分流规则",
        target_type="routing_rule",
        filters=vars(flt),
    )


@router.get("/{rule_id}", response_model=RoutingRuleOut)
async def get_rule(
    rule_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]
) -> RoutingRuleOut:
    return _shown(response, await routing.get_rule(ctx, rule_id))


@router.patch("/{rule_id}", response_model=RoutingRuleOut)
async def update_rule(
    rule_id: uuid.UUID,
    body: RoutingRuleUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ROUTING_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> RoutingRuleOut:
    """Change a rule; the whole rule is validated again. Naming a target replaces the old."""
    data = await routing.update_rule(
        ctx,
        rule_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return _shown(response, data)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(
    rule_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.ROUTING_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> None:
    await routing.delete_rule(ctx, rule_id, expected_version=expected_version(if_match))

"""Routing rules over the wire (R-WF-3)."""

import uuid

from pydantic import Field

from api.schemas.common import Input, Instant, Output
from domain.events import Category
from domain.routing import MAX_KEYWORDS
from services.exporting import Column


class RoutingRuleCreate(Input):
    owner_unit_id: uuid.UUID
    # community | street | district: where the arriving events are routed.
    level: str = Field(max_length=16)
    category: Category
    subtype: str | None = Field(default=None, max_length=32)
    keywords: list[str] | None = Field(default=None, max_length=MAX_KEYWORDS)
    target_unit_id: uuid.UUID | None = None
    target_department_id: uuid.UUID | None = None
    priority: int = Field(default=100, ge=0, le=10_000)
    enabled: bool = True
    note: str | None = Field(default=None, max_length=500)


class RoutingRuleUpdate(Input):
    level: str | None = Field(default=None, max_length=16)
    category: Category | None = None
    subtype: str | None = Field(default=None, max_length=32)
    keywords: list[str] | None = Field(default=None, max_length=MAX_KEYWORDS)
    target_unit_id: uuid.UUID | None = None
    target_department_id: uuid.UUID | None = None
    priority: int | None = Field(default=None, ge=0, le=10_000)
    enabled: bool | None = None
    note: str | None = Field(default=None, max_length=500)


class RoutingRuleOut(Output):
    id: uuid.UUID
    owner_unit_id: uuid.UUID
    level: str
    category: str
    subtype: str | None
    keywords: list[str] | None
    target_unit_id: uuid.UUID | None
    target_department_id: uuid.UUID | None
    priority: int
    enabled: bool
    note: str | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


ROUTING_RULE_COLUMNS = [
    Column("category", "大类"),
    Column("subtype", "小类"),
    Column("keywords", "关键词"),
    Column("level", "适用层级"),
    Column("target_unit_id", "目标单位"),
    Column("target_department_id", "目标部门"),
    Column("priority", "优先级"),
    Column("enabled", "启用"),
    Column("note", "备注"),
]

"""Business tags, system settings and notifications over the wire (SPEC §3.2, R-LINK-1,
R-KEY-2). Tag details are validated per kind by `domain.tags`; their schemas are published
by `GET /api/v1/tag-kinds`."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, computed_field

from api.schemas.common import Input, Instant, Output, PageOut
from domain.registry import FollowStatus
from domain.tags import KINDS, TagGroup, TagKind
from services.exporting import Column

Name = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
# Kinds of the actual person created for an unknown ID (R-LINK-1 mode 3). Overseas people are
# registered through the population registry: they need nationality and document details.
PersonKind = Literal["registered", "floating", "unsettled"]


class TagCreate(Input):
    grid_id: uuid.UUID
    kind: TagKind
    id_number: Annotated[str, Field(min_length=1, max_length=32)]
    name: Name
    details: dict[str, Any] = Field(
        default_factory=dict, description="Kind-specific fields; see GET /api/v1/tag-kinds"
    )
    person_kind: PersonKind = Field(
        default="registered",
        description="Kind of the actual person created with the tag when the link mode is 3",
    )


class TagUpdate(Input):
    name: Name | None = None
    details: dict[str, Any] | None = Field(
        default=None, description="Merged into the details (null removes a field), re-validated"
    )


class UnfollowIn(Input):
    reason: Reason


class RefollowIn(Input):
    reason: Reason | None = None


class ConvertIn(Input):
    kind: TagKind = Field(description="The kind to convert to (社区矫正 → released_prisoner)")
    details: dict[str, Any] = Field(
        default_factory=dict, description="The new kind's fields; see GET /api/v1/tag-kinds"
    )
    reason: Reason | None = Field(
        default=None, description="Why the source is unfollowed; 转为… by default"
    )


class TagOut(Output):
    id: uuid.UUID
    grid_id: uuid.UUID
    person_id: uuid.UUID | None
    kind: TagKind
    id_number: str
    name: str
    details: dict[str, Any]
    automatic: bool
    status: FollowStatus
    status_reason: str | None
    status_changed_at: Instant | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label


class StatusChangeOut(Output):
    from_status: str
    to_status: str
    reason: str | None
    at: Instant
    actor_id: uuid.UUID | None


class TagKindOut(Output):
    kind: TagKind
    label: str
    group: TagGroup
    min_age: int | None
    max_age: int | None
    gender: str | None
    details_schema: dict[str, Any]


class SettingOut(Output):
    key: str
    value: Any
    description: str
    version: int
    updated_at: Instant | None
    updated_by: uuid.UUID | None


class SettingUpdate(Input):
    value: Any = Field(description="The new value, validated for the key")


class NotificationOut(Output):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    target_type: str | None
    target_id: uuid.UUID | None
    created_at: Instant
    read_at: Instant | None


class NotificationPageOut(PageOut[NotificationOut]):
    unread_count: int


class ReadAllOut(Output):
    updated: int


NOTIFICATION_COLUMNS = [
    Column("created_at", "时间"),
    Column("title", "标题"),
    Column("body", "内容"),
    Column("read_at", "已读时间"),
]

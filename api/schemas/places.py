"""Organisations, key places, service teams, jurisdiction information, city components and
video points over the wire. Locations are GeoJSON Points (WGS-84 lon/lat; `crs` converts)."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from api.schemas.common import Input, Instant, Output
from api.schemas.org import GeoJSONGeometry
from domain.places import (
    Address,
    AttentionLevel,
    Code,
    ComponentCategory,
    ComponentCondition,
    ComponentKind,
    Name,
    OrganisationCategory,
    PersonName,
    Phone,
    PlaceKind,
    Posts,
    StreamUrl,
    Subcategory,
    TeamCategory,
    Text,
    VideoSource,
    normalise_licence,
)
from services.exporting import Column

Short = Annotated[str, Field(min_length=1, max_length=100)]
IdNumber = Annotated[
    str, Field(pattern=r"^[0-9]{15}([0-9]{2}[0-9Xx])?$"), AfterValidator(str.upper)
]
Licence = Annotated[str, Field(min_length=15, max_length=18), AfterValidator(normalise_licence)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class Patch(Input):
    """A partial update: absent fields stay as they are and null clears a field, except the
    fields in `required`, which always have a value."""

    required: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _not_cleared(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.required:
            raise ValueError("不能为空")
        return value


class ReasonIn(Input):
    reason: Reason


class OptionalReasonIn(Input):
    reason: Reason | None = None


class RecordOut(Output):
    """Life cycle and freshness of every registry record (SPEC §3)."""

    id: uuid.UUID
    status: str
    status_reason: str | None
    status_changed_at: Instant | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


# --- organisations --------------------------------------------------------------------------


class OrganisationFields(Input):
    name: Name
    org_type: Short | None = None
    licence_no: Licence | None = None
    legal_representative: PersonName | None = None
    legal_representative_id_number: IdNumber | None = None
    legal_representative_phone: Phone | None = None
    principal: PersonName | None = None
    phone: Phone | None = None
    industry: Short | None = None
    hazardous_chemicals: bool = False
    hazards: Text | None = None
    address: Address | None = None
    address_id: uuid.UUID | None = None
    location: GeoJSONGeometry | None = None


class OrganisationCreate(OrganisationFields):
    category: OrganisationCategory
    unit_id: Annotated[uuid.UUID, Field(description="a grid; any unit for social organisations")]


class OrganisationUpdate(Patch):
    required = frozenset({"name", "hazardous_chemicals"})

    name: Name | None = None
    org_type: Short | None = None
    licence_no: Licence | None = None
    legal_representative: PersonName | None = None
    legal_representative_id_number: IdNumber | None = None
    legal_representative_phone: Phone | None = None
    principal: PersonName | None = None
    phone: Phone | None = None
    industry: Short | None = None
    hazardous_chemicals: bool | None = None
    hazards: Text | None = None
    address: Address | None = None
    address_id: uuid.UUID | None = None
    location: GeoJSONGeometry | None = None


class OrganisationOut(RecordOut):
    category: OrganisationCategory
    unit_id: uuid.UUID
    grid_id: uuid.UUID | None
    name: str
    org_type: str | None
    licence_no: str | None
    legal_representative: str | None
    legal_representative_id_number: str | None
    legal_representative_phone: str | None
    principal: str | None
    phone: str | None
    industry: str | None
    hazardous_chemicals: bool
    hazards: str | None
    address: str | None
    address_id: uuid.UUID | None
    location: dict[str, Any] | None


# --- key places -----------------------------------------------------------------------------


class PlaceKindIn(Input):
    kind: PlaceKind
    level: AttentionLevel = AttentionLevel.NORMAL
    details: dict[str, Any] = Field(default_factory=dict)


class PlaceKindUpdate(Input):
    level: AttentionLevel | None = None
    details: dict[str, Any] | None = None


class PlaceCreate(Input):
    grid_id: uuid.UUID
    name: Name
    address: Address | None = None
    address_id: uuid.UUID | None = None
    location: GeoJSONGeometry | None = None
    principal: PersonName | None = None
    phone: Phone | None = None
    kinds: Annotated[list[PlaceKindIn], Field(min_length=1, max_length=len(PlaceKind))]


class PlaceUpdate(Patch):
    required = frozenset({"name"})

    name: Name | None = None
    address: Address | None = None
    address_id: uuid.UUID | None = None
    location: GeoJSONGeometry | None = None
    principal: PersonName | None = None
    phone: Phone | None = None


class PlaceKindOut(Output):
    kind: PlaceKind
    level: AttentionLevel
    colour: str
    details: dict[str, Any]
    updated_at: Instant


class PlaceOut(RecordOut):
    grid_id: uuid.UUID
    name: str
    address: str | None
    address_id: uuid.UUID | None
    location: dict[str, Any] | None
    principal: str | None
    phone: str | None
    kinds: list[PlaceKindOut]
    highest_level: AttentionLevel | None
    colour: str | None


# --- service teams --------------------------------------------------------------------------


class TeamCreate(Input):
    unit_id: uuid.UUID
    name: Name
    category: TeamCategory
    subcategory: Subcategory | None = None
    leader: PersonName | None = None
    phone: Phone | None = None
    description: Text | None = None
    established_on: date | None = None


class TeamUpdate(Patch):
    required = frozenset({"name"})

    name: Name | None = None
    subcategory: Subcategory | None = None
    leader: PersonName | None = None
    phone: Phone | None = None
    description: Text | None = None
    established_on: date | None = None


class TeamOut(RecordOut):
    unit_id: uuid.UUID
    grid_id: uuid.UUID | None
    name: str
    category: TeamCategory
    subcategory: str | None
    leader: str | None
    phone: str | None
    description: str | None
    established_on: date | None


class MemberCreate(Input):
    person_id: uuid.UUID | None = None
    name: PersonName | None = None
    phone: Phone | None = None
    posts: Posts
    joined_on: date | None = None


class MemberUpdate(Patch):
    required = frozenset({"name", "posts"})

    name: PersonName | None = None
    phone: Phone | None = None
    posts: Posts | None = None
    joined_on: date | None = None


class MemberOut(RecordOut):
    team_id: uuid.UUID
    person_id: uuid.UUID | None
    name: str
    phone: str | None
    posts: list[str]
    joined_on: date | None


class ServiceRecordCreate(Input):
    team_id: uuid.UUID
    member_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=50)]
    tag_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)]
    served_at: Annotated[datetime, Field(description="ISO 8601; without offset read as +08:00")]
    title: Name
    content: Text | None = None


class ServiceRecordOut(Output):
    id: uuid.UUID
    team_id: uuid.UUID
    team_name: str
    business_kind: str
    member_ids: list[uuid.UUID]
    tag_ids: list[uuid.UUID]
    served_at: Instant
    title: str
    content: str | None
    created_at: Instant
    created_by: uuid.UUID | None


# --- jurisdiction information ----------------------------------------------------------------

ImageUrl = Annotated[str, Field(min_length=1, max_length=1000)]


class ProfileImage(Input):
    """An image by address, or one uploaded here (`/api/v1/uploads`) and served by the
    platform — exactly one of the two."""

    url: ImageUrl | None = None
    upload_id: uuid.UUID | None = None
    caption: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def one_source(self) -> "ProfileImage":
        if (self.url is None) == (self.upload_id is None):
            raise ValueError("exactly one of url, upload_id")
        return self


class ProfileIn(Input):
    overview: Text | None = None
    geography: Text | None = None
    economy: Text | None = None
    society: Text | None = None
    key_projects: Text | None = None
    images: Annotated[list[ProfileImage], Field(max_length=30)] = Field(default_factory=list)


class ProfileImageOut(Output):
    url: str
    upload_id: uuid.UUID | None = None
    caption: str | None = None


class ProfileOut(Output):
    unit_id: uuid.UUID
    overview: str | None
    geography: str | None
    economy: str | None
    society: str | None
    key_projects: str | None
    images: list[ProfileImageOut]
    version: int
    updated_at: Instant | None
    updated_by: uuid.UUID | None


class RosterEntryOut(Output):
    id: uuid.UUID
    team_id: uuid.UUID
    team_name: str
    category: TeamCategory
    subcategory: str | None
    unit_id: uuid.UUID
    person_id: uuid.UUID | None
    name: str
    phone: str | None
    posts: list[str]
    joined_on: date | None


# --- city components ------------------------------------------------------------------------


class ComponentCreate(Input):
    grid_id: uuid.UUID
    code: Code
    name: Name
    category: ComponentCategory
    kind: ComponentKind
    condition: ComponentCondition = ComponentCondition.NORMAL
    owner: Name | None = None
    location: GeoJSONGeometry


class ComponentUpdate(Patch):
    required = frozenset({"code", "name", "kind", "condition", "location"})

    code: Code | None = None
    name: Name | None = None
    kind: ComponentKind | None = None
    condition: ComponentCondition | None = None
    owner: Name | None = None
    location: GeoJSONGeometry | None = None


class BindIn(Input):
    address_id: uuid.UUID


class ComponentOut(RecordOut):
    grid_id: uuid.UUID
    code: str
    name: str
    category: ComponentCategory
    kind: str
    condition: ComponentCondition
    owner: str | None
    location: dict[str, Any]
    address_id: uuid.UUID | None
    bound_at: Instant | None


# --- video points ---------------------------------------------------------------------------


class VideoPointCreate(Input):
    grid_id: uuid.UUID
    name: Name
    code: Code | None = None
    source: VideoSource
    location: GeoJSONGeometry
    stream_url: StreamUrl
    owner: Name


class VideoPointUpdate(Patch):
    required = frozenset({"name", "source", "location", "stream_url", "owner"})

    name: Name | None = None
    code: Code | None = None
    source: VideoSource | None = None
    location: GeoJSONGeometry | None = None
    stream_url: StreamUrl | None = None
    owner: Name | None = None


class VideoPointOut(RecordOut):
    grid_id: uuid.UUID
    name: str
    code: str | None
    source: VideoSource
    location: dict[str, Any]
    stream_url: str
    owner: str


# --- spreadsheet columns of the exports ------------------------------------------------------

_LIFE_COLUMNS = [
    Column("status", "状态"),
    Column("status_reason", "状态原因"),
    Column("status_changed_at", "状态变更时间"),
    Column("updated_at", "更新时间"),
]

ORGANISATION_COLUMNS = [
    Column("category", "类别"),
    Column("name", "名称"),
    Column("org_type", "类型"),
    Column("licence_no", "营业执照号码"),
    Column("legal_representative", "法人代表"),
    Column("legal_representative_id_number", "法人代表身份证号"),
    Column("legal_representative_phone", "法人代表电话"),
    Column("principal", "负责人"),
    Column("phone", "联系电话"),
    Column("industry", "所属行业"),
    Column("hazardous_chemicals", "是否危化企业"),
    Column("hazards", "隐患情况"),
    Column("address", "地址"),
    Column("unit_id", "所属单位"),
    *_LIFE_COLUMNS,
]

PLACE_COLUMNS = [
    Column("name", "场所名称"),
    Column("kind_summary", "场所类型及关注等级"),
    Column("highest_level", "最高关注等级"),
    Column("address", "地址"),
    Column("principal", "负责人"),
    Column("phone", "联系电话"),
    Column("grid_id", "所属网格"),
    *_LIFE_COLUMNS,
]

TEAM_COLUMNS = [
    Column("name", "团队名称"),
    Column("category", "类别"),
    Column("subcategory", "子类"),
    Column("leader", "负责人"),
    Column("phone", "联系电话"),
    Column("established_on", "成立日期"),
    Column("unit_id", "所属单位"),
    *_LIFE_COLUMNS,
]

MEMBER_COLUMNS = [
    Column("name", "姓名"),
    Column("phone", "联系电话"),
    Column("posts", "职务"),
    Column("joined_on", "加入日期"),
    *_LIFE_COLUMNS,
]

SERVICE_RECORD_COLUMNS = [
    Column("served_at", "服务时间"),
    Column("team_name", "服务团队"),
    Column("title", "服务事项"),
    Column("content", "服务内容"),
    Column("business_kind", "服务对象类型"),
    Column("member_count", "服务成员数"),
    Column("tag_count", "服务对象数"),
]

ROSTER_COLUMNS = [
    Column("team_name", "组织名称"),
    Column("category", "类别"),
    Column("subcategory", "子类"),
    Column("name", "姓名"),
    Column("posts", "职务"),
    Column("phone", "联系电话"),
    Column("joined_on", "加入日期"),
]

COMPONENT_COLUMNS = [
    Column("code", "部件编码"),
    Column("name", "名称"),
    Column("category", "大类"),
    Column("kind", "小类"),
    Column("condition", "部件状态"),
    Column("owner", "权属单位"),
    Column("address_id", "绑定地址"),
    Column("bound_at", "绑定时间"),
    Column("grid_id", "所属网格"),
    *_LIFE_COLUMNS,
]

VIDEO_POINT_COLUMNS = [
    Column("name", "名称"),
    Column("code", "编号"),
    Column("source", "类别"),
    Column("owner", "权属单位"),
    Column("stream_url", "视频流地址"),
    Column("grid_id", "所属网格"),
    *_LIFE_COLUMNS,
]

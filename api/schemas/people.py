"""Actual population, households and families over the wire (R-POP-1..5, R-HH-1, R-HH-2).

Sensitive values arrive masked for callers without pii:read (R-JUR-3); the schemas carry
them as strings either way.
"""

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import Field, field_validator

from api.schemas.common import Input, Instant, Output, PageOut
from domain.id_numbers import Gender
from domain.people import PHONE_PATTERN, Kind, Relation
from domain.registry import Status
from services.exporting import Column

Text16 = Annotated[str, Field(min_length=1, max_length=16)]
Text32 = Annotated[str, Field(min_length=1, max_length=32)]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text300 = Annotated[str, Field(min_length=1, max_length=300)]
Text500 = Annotated[str, Field(min_length=1, max_length=500)]
Phone = Annotated[str, Field(pattern=PHONE_PATTERN, examples=["13812345678"])]
IdNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="18-digit resident ID (15-digit legacy numbers are upgraded); "
        "required except for overseas people, who are identified by their document",
        examples=["653101199001011234"],
    ),
]
GroupNo = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{1,32}$", examples=["650001234"])]
DETAILS_DESCRIPTION = (
    "Kind-specific fields (R-POP-3). registered: settle_date; floating: residence_permit_no, "
    "stay_reason, inflow_date, landlord; unsettled: reason (出生未落/持证未落/证件遗失/其他), "
    "reason_note; overseas: nationality (ISO 3166 alpha-3), document_type "
    "(passport/hkmo/tw/fpr/other), document_number, visa_type, entry_date. Unknown fields are "
    "refused. On PATCH they merge into the current details; null removes one."
)


class PersonFields(Input):
    """The common fields of R-POP-3, all optional."""

    former_name: Text100 | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    ethnicity: Text32 | None = None
    phone: Phone | None = None
    register_address: Text300 | None = None
    current_address: Text300 | None = None
    education: Text32 | None = None
    occupation: Text100 | None = None
    employer: Text200 | None = None
    political_status: Text32 | None = None
    marital_status: Text16 | None = None
    photo_url: Text500 | None = None
    house_id: uuid.UUID | None = Field(
        default=None, description="the house lived in (R-POP-5); else `no_house_reason`"
    )
    no_house_reason: Text200 | None = None
    details: dict[str, Any] = Field(default_factory=dict, description=DETAILS_DESCRIPTION)


class PersonCreate(PersonFields):
    grid_id: uuid.UUID
    kind: Kind
    id_number: IdNumber | None = None
    name: Text100
    low_income: bool = False
    away: bool = False


class PersonUpdate(PersonFields):
    id_number: IdNumber | None = None
    name: Text100 | None = None
    low_income: bool | None = None
    away: bool | None = None

    @field_validator("id_number", "name", "low_income", "away")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Omitted means unchanged; these have no "empty" value to set.
        if value is None:
            raise ValueError("may not be null")
        return value


class ReasonIn(Input):
    reason: Text500


class RestoreIn(Input):
    reason: Text500 | None = None


class SettleIn(Input):
    settle_date: date | None = Field(default=None, description="落户日期, today by default")
    id_number: IdNumber | None = Field(
        default=None, description="the resident ID issued on settling, if it changed"
    )
    register_address: Text300 | None = None


class PersonOut(Output):
    id: uuid.UUID
    grid_id: uuid.UUID
    grid_code: str
    kind: Kind
    id_number: str
    name: str
    former_name: str | None
    gender: Gender | None
    birth_date: date | None
    ethnicity: str | None
    phone: str | None
    register_address: str | None
    current_address: str | None
    education: str | None
    occupation: str | None
    employer: str | None
    political_status: str | None
    marital_status: str | None
    photo_url: str | None
    low_income: bool
    away: bool
    house_id: uuid.UUID | None
    house_address: str | None
    no_house_reason: str | None
    details: dict[str, Any]
    status: Status
    status_reason: str | None
    status_changed_at: Instant | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


class StatusChangeOut(Output):
    from_status: str
    to_status: str
    reason: str | None
    at: Instant
    actor_id: uuid.UUID | None


# Households and families share their shapes; each names its number after itself.


class GroupCreate(Input):
    grid_id: uuid.UUID
    number: GroupNo
    head_person_id: uuid.UUID | None = Field(
        default=None, description="becomes the first member, with relation `head`"
    )
    address: Text300 | None = None


class HouseholdCreate(GroupCreate):
    number: GroupNo = Field(alias="household_no")


class FamilyCreate(GroupCreate):
    number: GroupNo = Field(alias="family_no")


class GroupRenumber(Input):
    number: GroupNo


class HouseholdRenumber(GroupRenumber):
    number: GroupNo = Field(alias="household_no")


class FamilyRenumber(GroupRenumber):
    number: GroupNo = Field(alias="family_no")


class MemberIn(Input):
    person_id: uuid.UUID
    relation: Relation = Field(description="relation to the head; `head` is set via /head")


class HeadIn(Input):
    person_id: uuid.UUID = Field(description="a member")
    former_head_relation: Relation = Relation.OTHER


class MemberOut(Output):
    person_id: uuid.UUID
    name: str
    id_number: str
    kind: Kind
    relation: Relation
    joined_at: Instant


class GroupOut(Output):
    id: uuid.UUID
    grid_id: uuid.UUID
    number: str
    head_person_id: uuid.UUID | None
    head_name: str | None
    address: str | None
    member_count: int
    members: list[MemberOut] | None = Field(default=None, description="on GET by id only")
    status: Status
    status_reason: str | None
    status_changed_at: Instant | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


class HouseholdOut(GroupOut):
    number: str = Field(serialization_alias="household_no")


class FamilyOut(GroupOut):
    number: str = Field(serialization_alias="family_no")


HouseholdPage = PageOut[HouseholdOut]
FamilyPage = PageOut[FamilyOut]


PERSON_COLUMNS = [
    Column("grid_code", "网格编码"),
    Column("kind", "人口类别"),
    Column("name", "姓名"),
    Column("id_number", "证件号码"),
    Column("gender", "性别"),
    Column("birth_date", "出生日期"),
    Column("ethnicity", "民族"),
    Column("phone", "联系电话"),
    Column("register_address", "户籍地址"),
    Column("current_address", "现住地址"),
    Column("house_address", "房屋地址"),
    Column("no_house_reason", "无房原因"),
    Column("education", "文化程度"),
    Column("occupation", "职业"),
    Column("employer", "工作单位"),
    Column("political_status", "政治面貌"),
    Column("marital_status", "婚姻状况"),
    Column("low_income", "低保"),
    Column("away", "外出"),
    Column("residence_permit_no", "暂住证号"),
    Column("stay_reason", "暂住事由"),
    Column("inflow_date", "流入日期"),
    Column("landlord", "房东"),
    Column("reason", "未落户原因"),
    Column("reason_note", "未落户说明"),
    Column("nationality", "国籍"),
    Column("document_type", "证件类型"),
    Column("document_number", "境外证件号码"),
    Column("visa_type", "签证类型"),
    Column("entry_date", "入境日期"),
    Column("settle_date", "落户日期"),
    Column("status", "状态"),
    Column("status_reason", "注销原因"),
    Column("updated_at", "更新时间"),
]


def group_columns(number_header: str) -> list[Column]:
    return [
        Column("number", number_header),
        Column("head_name", "户主"),
        Column("address", "地址"),
        Column("member_count", "成员数"),
        Column("status", "状态"),
        Column("updated_at", "更新时间"),
    ]

"""Organisations and places (SPEC §3.4), service teams, city components and video points:
categories, dictionaries, attention levels, kind-specific details and the pure rules that
check them (R-ORGN-1, R-ORGN-2, R-PLACE-1, R-TEAM-1, R-JURINFO-1, R-CMP-1, R-VID-1)."""

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from stdnum.cn import ric, uscc

from domain.errors import FieldError, Invalid

# --- field rules the request schemas and the import templates share -----------------------

Name = Annotated[str, Field(min_length=1, max_length=200)]
PersonName = Annotated[str, Field(min_length=1, max_length=100)]
Text = Annotated[str, Field(max_length=5000)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9-]{2,19}$", max_length=20)]
Address = Annotated[str, Field(min_length=1, max_length=300)]
Code = Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,32}$")]
Subcategory = Annotated[str, Field(max_length=64)]
Post = Annotated[str, Field(min_length=1, max_length=64)]
Posts = Annotated[list[Post], Field(min_length=1, max_length=10)]
ComponentKind = Annotated[str, Field(min_length=1, max_length=32)]
StreamUrl = Annotated[str, Field(min_length=1, max_length=1000)]

# --- organisations (实有单位, 两新组织, 规上企业) -------------------------------------------


class OrganisationCategory(StrEnum):
    ACTUAL_UNIT = "actual_unit"  # 实有单位 (R-ORGN-1)
    NEW_ECONOMIC = "new_economic"  # 非公经济组织 (R-ORGN-2)
    SOCIAL = "social"  # 社会组织 (R-ORGN-2)
    LARGE_ENTERPRISE = "large_enterprise"  # 规上企业 (R-ORGN-2)


ORGANISATION_CATEGORY_NAMES: dict[OrganisationCategory, str] = {
    OrganisationCategory.ACTUAL_UNIT: "实有单位",
    OrganisationCategory.NEW_ECONOMIC: "非公经济组织",
    OrganisationCategory.SOCIAL: "社会组织",
    OrganisationCategory.LARGE_ENTERPRISE: "规上企业",
}

# Social organisations may be kept at any level; every other category at grid level (R-REG-1).
ANY_LEVEL_CATEGORIES = frozenset({OrganisationCategory.SOCIAL})
# Categories that are registered businesses: a business-licence number is mandatory.
LICENSED_CATEGORIES = frozenset(
    {OrganisationCategory.ACTUAL_UNIT, OrganisationCategory.LARGE_ENTERPRISE}
)

ORGANISATION_TYPES: dict[OrganisationCategory, tuple[str, ...]] = {
    OrganisationCategory.ACTUAL_UNIT: (
        "企业",
        "个体工商户",
        "机关",
        "事业单位",
        "社会组织",
        "其他",
    ),
    OrganisationCategory.NEW_ECONOMIC: (
        "个体工商户",
        "私营企业",
        "外资企业",
        "港澳台资企业",
        "非国有控股股份制企业",
        "非国有控股混合所有制企业",
        "其他",
    ),
    OrganisationCategory.SOCIAL: (
        "社会团体",
        "基金会",
        "民办非企业单位",
        "中介组织",
        "社区活动团体",
        "其他",
    ),
    OrganisationCategory.LARGE_ENTERPRISE: (
        "国有企业",
        "集体企业",
        "私营企业",
        "外资企业",
        "港澳台资企业",
        "股份制企业",
        "其他",
    ),
}
# The two-new categories are defined by their type; for the others it is descriptive.
TYPE_REQUIRED = frozenset({OrganisationCategory.NEW_ECONOMIC, OrganisationCategory.SOCIAL})

# Legacy registration numbers (工商注册号) are 15 digits; current ones are the 18-character
# unified social credit code (统一社会信用代码, GB 32100-2015) with its check character.
_LEGACY_LICENCE = re.compile(r"^\d{15}$")
LICENCE_INVALID = "licence_no_invalid"


def normalise_licence(value: str) -> str:
    """Licence numbers are compared in upper case without surrounding spaces."""
    return value.strip().upper()


def licence_valid(value: str) -> bool:
    """A unified social credit code with a correct check character, or a 15-digit legacy
    registration number."""
    return bool(_LEGACY_LICENCE.match(value)) or (len(value) == 18 and uscc.is_valid(value))


def check_organisation(
    category: OrganisationCategory,
    org_type: str | None,
    licence_no: str | None,
    legal_representative_id_number: str | None = None,
) -> None:
    """The category's dictionary and mandatory fields, a valid licence number and legal
    representative's ID number (GB 11643); every problem at once (422)."""
    problems: list[FieldError] = []
    if legal_representative_id_number is not None and not ric.is_valid(
        legal_representative_id_number
    ):
        problems.append(
            FieldError("legal_representative_id_number", "representative_id_number_invalid")
        )
    allowed = ORGANISATION_TYPES[category]
    if org_type is None:
        if category in TYPE_REQUIRED:
            problems.append(FieldError("org_type", "field_required"))
    elif org_type not in allowed:
        problems.append(
            FieldError("org_type", "dictionary_value_invalid", {"allowed": "、".join(allowed)})
        )
    if licence_no is None:
        if category in LICENSED_CATEGORIES:
            problems.append(FieldError("licence_no", "field_required"))
    elif not licence_valid(licence_no):
        problems.append(FieldError("licence_no", LICENCE_INVALID))
    if problems:
        raise Invalid("validation_failed", errors=problems)


# --- key places (重点场所, R-PLACE-1) ----------------------------------------------------------


class PlaceKind(StrEnum):
    WORK_SAFETY = "work_safety"  # 安全生产重点
    PUBLIC_SECURITY = "public_security"  # 治安重点
    FIRE_SAFETY = "fire_safety"  # 消防安全重点
    SCHOOL_SURROUNDINGS = "school_surroundings"  # 学校周边
    OTHER = "other"  # 其他重点场所


PLACE_KIND_NAMES: dict[PlaceKind, str] = {
    PlaceKind.WORK_SAFETY: "安全生产重点",
    PlaceKind.PUBLIC_SECURITY: "治安重点",
    PlaceKind.FIRE_SAFETY: "消防安全重点",
    PlaceKind.SCHOOL_SURROUNDINGS: "学校周边",
    PlaceKind.OTHER: "其他重点场所",
}


class AttentionLevel(StrEnum):
    """关注等级, shown as a legend colour in lists and on the map."""

    NORMAL = "normal"  # 一般
    MEDIUM = "medium"  # 中等
    SEVERE = "severe"  # 严重


LEVEL_COLOURS: dict[AttentionLevel, str] = {
    AttentionLevel.NORMAL: "green",
    AttentionLevel.MEDIUM: "yellow",
    AttentionLevel.SEVERE: "red",
}
LEVEL_NAMES: dict[AttentionLevel, str] = {
    AttentionLevel.NORMAL: "一般",
    AttentionLevel.MEDIUM: "中等",
    AttentionLevel.SEVERE: "严重",
}
_LEVEL_RANK = {level: rank for rank, level in enumerate(AttentionLevel)}


def highest_level(levels: Iterable[str]) -> AttentionLevel | None:
    """The most severe level among a place's kinds (its colour on the map)."""
    ranked = [AttentionLevel(level) for level in levels]
    return max(ranked, key=_LEVEL_RANK.__getitem__) if ranked else None


class _Details(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Text100 = Field(default=None, max_length=100)


class EnterpriseDetails(_Details):
    """What the seed keeps for a key enterprise: type, licence, legal representative,
    industry, whether it handles hazardous chemicals, and its hazards."""

    enterprise_type: str | None = Text100
    licence_no: str | None = Field(default=None, max_length=32)
    legal_representative: str | None = Text100
    industry: str | None = Text100
    hazardous_chemicals: bool = False
    hazards: str | None = Field(default=None, max_length=2000)

    @field_validator("licence_no")
    @classmethod
    def _licence(cls, value: str | None) -> str | None:
        # The same licence rule as organisations (R-ORGN-1): a valid credit code or a
        # legacy registration number.
        if value is None:
            return None
        value = normalise_licence(value)
        if not licence_valid(value):
            raise PydanticCustomError(LICENCE_INVALID, "invalid business licence number")
        return value


class WorkSafetyDetails(EnterpriseDetails):
    pass


class PublicSecurityDetails(EnterpriseDetails):
    subtype: Literal[
        "城乡结合部",
        "城中村",
        "流动人口聚集村（社区）",
        "旅馆",
        "出租屋聚集区",
        "娱乐场所",
        "批发市场",
        "矿山采石场",
        "车站码头",
        "其他",
    ]


class FireSafetyDetails(EnterpriseDetails):
    subtype: Literal["商场", "市场", "娱乐场所", "重点单位", "其他"]


class SchoolSurroundingsDetails(_Details):
    principal: str | None = Text100
    nature: Literal["公办", "民办", "其他"] | None = None
    school_type: (
        Literal[
            "幼儿园",
            "小学",
            "初级中学",
            "高级中学",
            "九年一贯制学校",
            "完全中学",
            "中等职业学校",
            "高等学校",
            "特殊教育学校",
            "其他",
        ]
        | None
    ) = None
    safety_officer: str | None = Text100


class OtherPlaceDetails(_Details):
    subtype: Literal["诊所", "电镀", "燃气点", "加油点", "其他"]
    contact: str | None = Text100


PLACE_DETAILS: dict[PlaceKind, type[_Details]] = {
    PlaceKind.WORK_SAFETY: WorkSafetyDetails,
    PlaceKind.PUBLIC_SECURITY: PublicSecurityDetails,
    PlaceKind.FIRE_SAFETY: FireSafetyDetails,
    PlaceKind.SCHOOL_SURROUNDINGS: SchoolSurroundingsDetails,
    PlaceKind.OTHER: OtherPlaceDetails,
}


_DETAIL_CODES = {
    "missing": "field_required",
    "extra_forbidden": "field_forbidden",
    LICENCE_INVALID: LICENCE_INVALID,
}


def details_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    """A detail model's validation errors as field errors under `prefix`."""
    return [
        FieldError(
            ".".join([prefix, *(str(part) for part in err["loc"])]),
            _DETAIL_CODES.get(err["type"], "field_invalid"),
            {"detail": err["msg"]},
        )
        for err in exc.errors()
    ]


def place_details(kind: PlaceKind, raw: Mapping[str, Any], field: str) -> dict[str, Any]:
    """The kind's details validated and normalised (unknown fields refused: 422)."""
    try:
        model = PLACE_DETAILS[kind].model_validate(dict(raw))
    except ValidationError as exc:
        raise Invalid("validation_failed", errors=details_errors(exc, field)) from exc
    return model.model_dump(mode="json", exclude_none=True)


# --- service teams (服务团队, R-TEAM-1) and rosters (R-JURINFO-1) ---------------------------


class TeamCategory(StrEnum):
    GOVERNANCE = "governance"  # 基层综治组织
    PARTY = "party"  # 基层党组织
    SELF_GOVERNANCE = "self_governance"  # 基层自治组织
    MASS_PREVENTION = "mass_prevention"  # 群防群治队伍
    VOLUNTEER = "volunteer"  # 社会志愿者队伍
    LEADING_GROUP = "leading_group"  # 专项工作领导小组
    GRID_SERVICE = "grid_service"  # 网格化管理服务团队
    OTHER = "other"  # 其他


TEAM_CATEGORY_NAMES: dict[TeamCategory, str] = {
    TeamCategory.GOVERNANCE: "基层综治组织",
    TeamCategory.PARTY: "基层党组织",
    TeamCategory.SELF_GOVERNANCE: "基层自治组织",
    TeamCategory.MASS_PREVENTION: "群防群治队伍",
    TeamCategory.VOLUNTEER: "社会志愿者队伍",
    TeamCategory.LEADING_GROUP: "专项工作领导小组",
    TeamCategory.GRID_SERVICE: "网格化管理服务团队",
    TeamCategory.OTHER: "其他",
}

TEAM_SUBCATEGORIES: dict[TeamCategory, tuple[str, ...]] = {
    TeamCategory.GOVERNANCE: ("综治委", "综治中心", "综治工作站", "人民调解委员会", "其他"),
    TeamCategory.PARTY: ("党委", "党总支", "党支部", "党小组", "其他"),
    TeamCategory.SELF_GOVERNANCE: (
        "居民委员会",
        "村民委员会",
        "居务监督委员会",
        "业主委员会",
        "其他",
    ),
    TeamCategory.MASS_PREVENTION: ("治安巡防队", "护村队", "平安志愿者", "楼栋长", "其他"),
    TeamCategory.VOLUNTEER: (
        "党员志愿者",
        "青年志愿者",
        "巾帼志愿者",
        "法律服务志愿者",
        "其他",
    ),
    TeamCategory.LEADING_GROUP: (
        "维稳工作领导小组",
        "禁毒工作领导小组",
        "安全生产领导小组",
        "防范处理邪教领导小组",
        "其他",
    ),
    TeamCategory.GRID_SERVICE: ("网格管理服务团队", "网格党小组", "其他"),
    TeamCategory.OTHER: ("其他",),
}

# R-JURINFO-1: the political and self-governance organisations shown as rosters per level.
ROSTER_CATEGORIES: tuple[TeamCategory, ...] = (
    TeamCategory.GOVERNANCE,
    TeamCategory.PARTY,
    TeamCategory.SELF_GOVERNANCE,
    TeamCategory.MASS_PREVENTION,
    TeamCategory.VOLUNTEER,
)


def check_team(category: TeamCategory, subcategory: str | None) -> None:
    """A team's sub-category belongs to its category's dictionary (422 otherwise)."""
    allowed = TEAM_SUBCATEGORIES[category]
    if subcategory is not None and subcategory not in allowed:
        raise Invalid(
            "validation_failed",
            errors=[
                FieldError(
                    "subcategory", "dictionary_value_invalid", {"allowed": "、".join(allowed)}
                )
            ],
        )


@dataclass(frozen=True)
class ServingMember:
    id: uuid.UUID
    team_id: uuid.UUID
    active: bool


@dataclass(frozen=True)
class ServedPerson:
    id: uuid.UUID
    kind: str


def check_service_record(
    team_id: uuid.UUID, members: list[ServingMember], served: list[ServedPerson]
) -> str:
    """R-TEAM-1: every serving member is an active member of the record's one team and every
    served person carries the same business kind; returns that kind."""
    problems: list[FieldError] = []
    if any(member.team_id != team_id for member in members):
        problems.append(FieldError("member_ids", "service_members_one_team"))
    if any(not member.active for member in members):
        problems.append(FieldError("member_ids", "service_member_deregistered"))
    kinds = {person.kind for person in served}
    if not members:
        problems.append(FieldError("member_ids", "field_required"))
    if not kinds:
        problems.append(FieldError("tag_ids", "field_required"))
    elif len(kinds) > 1:
        problems.append(FieldError("tag_ids", "service_targets_one_kind"))
    if problems:
        raise Invalid(problems[0].code, errors=problems)
    return kinds.pop()


# --- city components (城市部件, R-CMP-1) -------------------------------------------------------


class ComponentCategory(StrEnum):
    PUBLIC = "public"  # 公共设施
    CIVIL = "civil"  # 民用设施


COMPONENT_KINDS: dict[ComponentCategory, dict[str, str]] = {
    ComponentCategory.PUBLIC: {
        "manhole_cover": "井盖",
        "substation": "变电站",
        "utility_pole": "电线杆",
        "bus_stop": "公交车站",
        "fire_hydrant": "消防栓",
        "other": "其他",
    },
    ComponentCategory.CIVIL: {"housing": "住房", "other": "其他"},
}


class ComponentCondition(StrEnum):
    """The physical state of a component (its record's life cycle is `status`)."""

    NORMAL = "normal"  # 完好
    DAMAGED = "damaged"  # 破损
    MISSING = "missing"  # 丢失
    OCCUPIED = "occupied"  # 被占用
    OUT_OF_SERVICE = "out_of_service"  # 停用


def check_component_kind(category: ComponentCategory, kind: str) -> None:
    """A component's kind belongs to its category (public or civil); 422 otherwise."""
    allowed = COMPONENT_KINDS[category]
    if kind not in allowed:
        raise Invalid(
            "validation_failed",
            errors=[
                FieldError("kind", "dictionary_value_invalid", {"allowed": "、".join(allowed)})
            ],
        )


# --- video points (视频点位, R-VID-1) and profile images ---------------------------------------


class VideoSource(StrEnum):
    PUBLIC_SECURITY = "public_security"  # 治安动态视频
    TRAFFIC = "traffic"  # 交通视频
    WORK_SAFETY = "work_safety"  # 安全生产视频
    SOCIAL = "social"  # 社会视频


STREAM_SCHEMES = ("rtsp", "http", "https")
IMAGE_SCHEMES = ("http", "https")


def url_valid(value: str, schemes: tuple[str, ...]) -> bool:
    """An absolute URL with one of `schemes` and a host, without spaces or control chars."""
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return False
    return parts.scheme.lower() in schemes and bool(parts.hostname) and port_ok


def check_urls(urls: Mapping[str, str], schemes: tuple[str, ...]) -> None:
    """Every URL (field → value) valid with one of `schemes`; 422 naming each bad field."""
    bad = [name for name, url in urls.items() if not url_valid(url, schemes)]
    if bad:
        raise Invalid(
            "validation_failed",
            errors=[
                FieldError(name, "url_invalid", {"schemes": "/".join(schemes)}) for name in bad
            ],
        )

"""Actual population (实有人口, R-POP-1..5) and households/families (R-HH-1, R-HH-2): the four
kinds, the dictionaries of the common fields, the kind-specific details, and the rules of
identity, residence and membership."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from domain import id_numbers
from domain.errors import FieldError, Invalid
from domain.id_numbers import Gender
from domain.masking import Mask
from domain.registry import Status


class Kind(StrEnum):
    REGISTERED = "registered"
    FLOATING = "floating"
    UNSETTLED = "unsettled"
    OVERSEAS = "overseas"


KIND_LABELS: dict[Kind, str] = {
    Kind.REGISTERED: "户籍人口",
    Kind.FLOATING: "流动人口",
    Kind.UNSETTLED: "未落户人口",
    Kind.OVERSEAS: "境外人员",
}
GENDER_LABELS: dict[Gender, str] = {Gender.MALE: "男", Gender.FEMALE: "女"}

OTHER = "其他"
# The 56 ethnic groups in the order of GB 3304.
ETHNIC_GROUPS: tuple[str, ...] = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族",
    "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族",
    "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族",
    "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族",
    "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族",
    "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族",
    "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)  # fmt: skip
# Dictionaries of the common fields (R-POP-3): stored as their Chinese terms.
DICTIONARIES: dict[str, tuple[str, ...]] = {
    "ethnicity": (*ETHNIC_GROUPS, OTHER),
    # GB/T 4658, grouped as registries record it.
    "education": (
        "研究生", "大学本科", "大学专科", "中等专科", "职业高中", "技工学校", "高中", "初中",
        "小学", "学龄前", "文盲或半文盲", OTHER,
    ),
    # GB/T 4762.
    "political_status": (
        "中共党员", "中共预备党员", "共青团员", "民革党员", "民盟盟员", "民建会员", "民进会员",
        "农工党党员", "致公党党员", "九三学社社员", "台盟盟员", "无党派人士", "群众",
    ),
    "marital_status": ("未婚", "已婚", "离婚", "丧偶", OTHER),
}  # fmt: skip


def dictionary_errors(values: Mapping[str, object]) -> list[FieldError]:
    """The dictionary fields among `values` whose value is not a term of their dictionary."""
    return [
        FieldError(name, "dictionary_value_invalid", {"allowed": "、".join(terms)})
        for name, terms in DICTIONARIES.items()
        if values.get(name) is not None and values[name] not in terms
    ]


# Chinese mobile numbers, or landlines with area code.
PHONE_PATTERN = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"


class UnsettledReason(StrEnum):
    BIRTH = "出生未落"
    CERTIFICATE = "持证未落"
    LOST_PAPERS = "证件遗失"
    OTHER = OTHER


class DocumentType(StrEnum):
    PASSPORT = "passport"
    HONG_KONG_MACAO_PERMIT = "hkmo"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "tw"  # 台湾居民来往大陆通行证
    PERMANENT_RESIDENCE = "fpr"  # 外国人永久居留身份证
    OTHER = "other"


def _upper_compact(value: object) -> object:
    return id_numbers.normalise(value) if isinstance(value, str) else value


Text = Annotated[str, Field(min_length=1, max_length=100)]
DocumentNumber = Annotated[str, BeforeValidator(_upper_compact), Field(pattern=r"^[A-Z0-9]{5,18}$")]


class Details(BaseModel):
    """Kind-specific fields (R-POP-3); unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisteredDetails(Details):
    settle_date: date | None = None  # 落户日期, set when an unsettled person settles (R-POP-4)


class FloatingDetails(Details):
    residence_permit_no: Annotated[str | None, Field(max_length=32)] = None
    stay_reason: Text | None = None
    inflow_date: date | None = None
    landlord: Text | None = None


class UnsettledDetails(Details):
    reason: UnsettledReason
    reason_note: Annotated[str | None, Field(max_length=200)] = None


class OverseasDetails(Details):
    # ISO 3166-1 alpha-3 (PAK, KGZ, TJK …).
    nationality: Annotated[str, BeforeValidator(_upper_compact), Field(pattern=r"^[A-Z]{3}$")]
    document_type: DocumentType
    document_number: DocumentNumber
    visa_type: Annotated[str | None, Field(max_length=32)] = None
    entry_date: date | None = None


DETAILS: dict[Kind, type[Details]] = {
    Kind.REGISTERED: RegisteredDetails,
    Kind.FLOATING: FloatingDetails,
    Kind.UNSETTLED: UnsettledDetails,
    Kind.OVERSEAS: OverseasDetails,
}

# Sensitive fields (R-JUR-3): the kind-specific ones, then a person's whole record.
DETAIL_MASKS: dict[str, Mask] = {
    "residence_permit_no": Mask.ID_NUMBER,
    "landlord": Mask.NAME,
    "document_number": Mask.ID_NUMBER,
}
PERSON_MASKS: dict[str, Mask] = {
    "id_number": Mask.ID_NUMBER,
    "name": Mask.NAME,
    "former_name": Mask.NAME,
    "phone": Mask.PHONE,
    "register_address": Mask.ADDRESS,
    "current_address": Mask.ADDRESS,
    "house_address": Mask.ADDRESS,
    **{f"details.{name}": mask for name, mask in DETAIL_MASKS.items()},
}

_PYDANTIC_CODES = {"missing": "field_required", "extra_forbidden": "field_forbidden"}


def validate_details(kind: Kind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's details, checked and JSON-ready; `Invalid` with `details.<field>` errors."""
    try:
        details = DETAILS[kind].model_validate(raw)
    except ValidationError as exc:
        raise Invalid(
            "validation_failed",
            errors=[
                FieldError(
                    ".".join(["details", *(str(part) for part in err["loc"])]),
                    _PYDANTIC_CODES.get(err["type"], "field_invalid"),
                    {"detail": err["msg"]},
                )
                for err in exc.errors()
            ],
        ) from exc
    return details.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Identity:
    """What makes a person unique within a grid (R-POP-1), with what it says about them."""

    id_number: str
    birth_date: date | None
    gender: Gender | None


def establish_identity(
    kind: Kind,
    *,
    id_number: str | None,
    details: Mapping[str, Any],
    birth_date: date | None,
    gender: Gender | None,
    today: date,
) -> Identity:
    """A resident ID for the three Chinese kinds (R-POP-2: checked, upgraded, agreeing with
    the birth date and gender given). Overseas people have no resident ID: their identity is
    `<document type>:<nationality>:<document number>` from their validated details, so the
    one-active-record-per-grid rule covers them too."""
    if kind == Kind.OVERSEAS:
        if id_number:
            raise Invalid(
                "validation_failed", errors=[FieldError("id_number", "overseas_id_number")]
            )
        identity = ":".join(
            (details["document_type"], details["nationality"], details["document_number"])
        )
        return Identity(id_number=identity, birth_date=birth_date, gender=gender)
    if not id_number:
        raise Invalid("id_number_invalid", errors=[FieldError("id_number", "field_required")])
    resident = id_numbers.verify(id_number, today=today, birth_date=birth_date, gender=gender)
    return Identity(
        id_number=resident.number, birth_date=resident.birth_date, gender=resident.gender
    )


def check_residence(*, has_house: bool, no_house_reason: str | None) -> None:
    """R-POP-5: a person lives in a house, or has no house and a stated reason — one of the
    two, never both or neither."""
    if has_house and no_house_reason:
        raise Invalid(
            "residence_invalid",
            errors=[FieldError("no_house_reason", "no_house_reason_with_house")],
        )
    if not has_house and not no_house_reason:
        raise Invalid(
            "residence_invalid", errors=[FieldError("no_house_reason", "no_house_reason_required")]
        )


class Relation(StrEnum):
    """A member's relation to the head of the household or family."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    CHILD_IN_LAW = "child_in_law"
    GRANDCHILD = "grandchild"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    OTHER = "other"


def membership_problem(
    *, registered_only: bool, kind: str, status: str, same_grid: bool
) -> str | None:
    """Why a person may not join a group, or None. Members are active persons of the group's
    own grid (the unit of R-HH-1: groups and people are both kept per grid, move together
    when records move, and are seen by the same users); households take registered persons
    only (R-HH-1), families any kind (R-HH-2)."""
    if status != Status.ACTIVE:
        return "member_not_active"
    if not same_grid:
        return "member_other_grid"
    if registered_only and kind != Kind.REGISTERED:
        return "member_not_registered"
    return None

"""Business tags on a person (业务人员, SPEC §3.2): the kinds with their own validated details,
who may carry them (age, gender), how tags relate to the actual population (R-LINK-1) and the
automatic life cycle (R-KEY-1, R-KEY-2, R-CARE-1).

Periods counted in years end on the anniversary; an anniversary that does not exist (29
February in a common year) falls on the last day of that month, 28 February (Civil Code
art. 202: 没有对应日的，为月末日期). Ages and every life-cycle limit use this one rule.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from domain import id_numbers
from domain.errors import FieldError, Invalid
from domain.id_numbers import Gender
from domain.masking import Mask


class TagGroup(StrEnum):
    KEY_PERSON = "key_person"  # 重点人口 (R-KEY-1)
    CARE = "care"  # 关怀对象及其他 (R-CARE-1)


class TagKind(StrEnum):
    RELEASED_PRISONER = "released_prisoner"
    RELEASED_REEDUCATION = "released_reeducation"
    COMMUNITY_CORRECTION = "community_correction"
    DRUG_USER = "drug_user"
    MENTAL_PATIENT = "mental_patient"
    KEY_YOUTH = "key_youth"
    KEY_PETITIONER = "key_petitioner"
    DANGEROUS_GOODS_WORKER = "dangerous_goods_worker"
    NEEDS_HELP = "needs_help"
    VAGRANT = "vagrant"
    KEY_OTHER = "key_other"
    CHILDBEARING_WOMAN = "childbearing_woman"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    ENTITLED_GROUP = "entitled_group"
    NEEDY = "needy"
    UNEMPLOYED = "unemployed"


class LinkMode(IntEnum):
    """R-LINK-1: how a tag relates to the actual population (system-wide setting)."""

    INDEPENDENT = 1
    PERSON_REQUIRED = 2
    CREATE_PERSON = 3


GENDER_NAMES = {Gender.MALE: "男", Gender.FEMALE: "女"}

# Detail field types. A `Mask` in the metadata marks a field sensitive (R-JUR-3): callers
# without pii:read see it masked, and exports follow.
Text = Annotated[str, Field(min_length=1, max_length=200)]
Secret = Annotated[Text, Mask.SECRET]
Phone = Annotated[str, Field(pattern=r"^(1\d{10}|0\d{2,3}-?\d{7,8})$"), Mask.PHONE]
Flag = Annotated[bool, Field(default=False)]


END_BEFORE_START = "tag_end_before_start"


class Details(BaseModel):
    """Kind-specific details: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# 帮教人员: who helps a released or corrected person resettle (seed 000 "帮教信息").
Helpers = Annotated[list[Text], Field(default_factory=list, max_length=20, title="帮教人员")]


class ReleasedPrisonerDetails(Details):
    release_date: Annotated[date, Field(title="释放日期")]
    original_crime: Annotated[Secret, Field(title="原罪名")]
    sentence: Annotated[Secret, Field(title="原判刑期")]
    helpers: Helpers


class ReleasedReeducationDetails(Details):
    release_date: Annotated[date, Field(title="解除教养日期")]
    helpers: Helpers


class CommunityCorrectionDetails(Details):
    correction_type: Annotated[
        Literal["管制", "缓刑", "假释", "暂予监外执行", "剥夺政治权利"], Field(title="矫正类别")
    ]
    start_date: Annotated[date, Field(title="矫正开始日期")]
    end_date: Annotated[date, Field(title="矫正结束日期")]
    original_sentence: Annotated[Secret, Field(title="原判刑罚")]
    helpers: Helpers

    @model_validator(mode="after")
    def _end_after_start(self) -> "CommunityCorrectionDetails":
        if self.end_date <= self.start_date:
            raise PydanticCustomError(END_BEFORE_START, "end_date must be after start_date")
        return self


class DrugUserDetails(Details):
    cause: Annotated[Secret, Field(title="吸毒原因")]
    source: Annotated[Secret, Field(title="毒品来源")]
    rehab_status: Annotated[Secret, Field(title="戒毒情况")]
    methadone: Annotated[Flag, Mask.SECRET, Field(title="是否参加美沙酮维持治疗")]


class MentalPatientDetails(Details):
    guardian_name: Annotated[Text, Field(title="监护人姓名")]
    guardian_phone: Annotated[Phone, Field(title="监护人电话")]
    risk_level: Annotated[int, Field(ge=0, le=5, title="危险性评估等级"), Mask.SECRET]
    treated: Annotated[Flag, Mask.SECRET, Field(title="是否接受治疗")]


# Dictionaries of the seeds (000 §7.1.1.5, 003 "业务人员") and the standards they cite.
YouthType = Literal[
    "闲散青少年",
    "有不良行为青少年",
    "失学青少年",
    "流浪乞讨未成年人",
    "服刑人员未成年子女",
    "农村留守儿童",
    "其他",
]
# GB/T 26341-2010 残疾人残疾分类和分级: seven categories (and "other" as the seed keeps it).
DisabilityType = Literal[
    "视力残疾",
    "听力残疾",
    "言语残疾",
    "肢体残疾",
    "智力残疾",
    "精神残疾",
    "多重残疾",
    "其他残疾",
]
# 《军人抚恤优待条例》: who is entitled to preferential treatment.
EntitledType = Literal[
    "现役军人",
    "残疾军人",
    "复员军人",
    "退伍军人",
    "退役军人",
    "带病回乡退伍军人",
    "烈士遗属",
    "因公牺牲军人遗属",
    "病故军人遗属",
    "现役军人家属",
    "其他",
]
YOUTH_TYPES: tuple[str, ...] = get_args(YouthType)
DISABILITY_TYPES: tuple[str, ...] = get_args(DisabilityType)
ENTITLED_TYPES: tuple[str, ...] = get_args(EntitledType)


class KeyYouthDetails(Details):
    youth_type: Annotated[YouthType, Field(title="人员类型")]
    guardian_name: Annotated[Text, Field(title="监护人姓名")]
    guardian_phone: Annotated[Phone, Field(title="监护人电话")]


class KeyPetitionerDetails(Details):
    reason: Annotated[Secret, Field(title="上访原因")]
    channel: Annotated[Secret, Field(title="上访渠道")]
    frequency: Annotated[Secret, Field(title="上访频次")]
    highest_level: Annotated[Secret, Field(title="最高上访层级")]


class DangerousGoodsWorkerDetails(Details):
    category: Annotated[Text, Field(title="危险品类别")]
    certificate_no: Annotated[Text, Field(title="从业资格证号")]
    employer: Annotated[Text, Field(title="工作单位")]


class KeyOtherDetails(Details):
    reason: Annotated[Secret, Field(title="关注原因")]


class DisabledDetails(Details):
    disability_type: Annotated[DisabilityType, Field(title="残疾类别")]
    grade: Annotated[int, Field(ge=1, le=4, title="残疾等级")]


class EntitledGroupDetails(Details):
    entitled_type: Annotated[EntitledType, Field(title="优抚类别")]


class NeedyDetails(Details):
    """People needing help, as key persons (R-KEY-1) and as care objects (R-CARE-1): why
    they are in difficulty and whether they receive the minimum living allowance (低保)."""

    difficulty_type: Annotated[Text, Field(title="困难类型")]
    low_income: Annotated[Flag, Field(title="是否低保")]


class NoDetails(Details):
    """Kinds that carry nothing beyond the person and the follow state."""


@dataclass(frozen=True)
class KindSpec:
    label: str
    group: TagGroup
    details: type[Details]
    min_age: int | None = None
    max_age: int | None = None
    gender: Gender | None = None


KINDS: dict[TagKind, KindSpec] = {
    TagKind.RELEASED_PRISONER: KindSpec("刑释人员", TagGroup.KEY_PERSON, ReleasedPrisonerDetails),
    TagKind.RELEASED_REEDUCATION: KindSpec(
        "解教人员", TagGroup.KEY_PERSON, ReleasedReeducationDetails
    ),
    TagKind.COMMUNITY_CORRECTION: KindSpec(
        "社区矫正人员", TagGroup.KEY_PERSON, CommunityCorrectionDetails
    ),
    TagKind.DRUG_USER: KindSpec("吸毒人员", TagGroup.KEY_PERSON, DrugUserDetails),
    TagKind.MENTAL_PATIENT: KindSpec(
        "易肇事肇祸精神病人", TagGroup.KEY_PERSON, MentalPatientDetails
    ),
    TagKind.KEY_YOUTH: KindSpec(
        "重点青少年", TagGroup.KEY_PERSON, KeyYouthDetails, min_age=6, max_age=25
    ),
    TagKind.KEY_PETITIONER: KindSpec("重点上访人员", TagGroup.KEY_PERSON, KeyPetitionerDetails),
    TagKind.DANGEROUS_GOODS_WORKER: KindSpec(
        "危险品从业人员", TagGroup.KEY_PERSON, DangerousGoodsWorkerDetails
    ),
    TagKind.NEEDS_HELP: KindSpec("需救助人员", TagGroup.KEY_PERSON, NeedyDetails),
    TagKind.VAGRANT: KindSpec("流浪乞讨人员", TagGroup.KEY_PERSON, NoDetails),
    TagKind.KEY_OTHER: KindSpec("其他重点人员", TagGroup.KEY_PERSON, KeyOtherDetails),
    TagKind.CHILDBEARING_WOMAN: KindSpec(
        "育龄妇女", TagGroup.CARE, NoDetails, min_age=15, max_age=49, gender=Gender.FEMALE
    ),
    TagKind.ELDERLY: KindSpec("老年人", TagGroup.CARE, NoDetails, min_age=60),
    TagKind.DISABLED: KindSpec("残疾人", TagGroup.CARE, DisabledDetails),
    TagKind.ENTITLED_GROUP: KindSpec("优抚对象", TagGroup.CARE, EntitledGroupDetails),
    TagKind.NEEDY: KindSpec("困难群众", TagGroup.CARE, NeedyDetails),
    TagKind.UNEMPLOYED: KindSpec("失业人员", TagGroup.CARE, NoDetails),
}


def _detail_masks() -> dict[str, Mask]:
    """Every sensitive detail field by name, across kinds. A name means one thing whatever the
    kind (checked here), so one mask table serves lists that mix kinds."""
    masks: dict[str, Mask] = {}
    for spec in KINDS.values():
        for name, info in spec.details.model_fields.items():
            for mark in info.metadata:
                if isinstance(mark, Mask) and masks.setdefault(name, mark) != mark:
                    raise TypeError(f"detail field {name!r} is masked two ways")
    return masks


DETAIL_MASKS: dict[str, Mask] = _detail_masks()


def detail_titles() -> dict[str, str]:
    """Chinese titles of every detail field, in declaration order (export headers)."""
    titles: dict[str, str] = {}
    for spec in KINDS.values():
        for name, info in spec.details.model_fields.items():
            titles.setdefault(name, info.title or name)
    return titles


_PYDANTIC_CODES = {"missing": "field_required", "extra_forbidden": "field_forbidden"}


def parse_details(kind: TagKind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's details validated and in JSON form; 422 `tag_details_invalid` naming each
    offending `details.<field>`."""
    try:
        model = KINDS[kind].details.model_validate(dict(raw))
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            code = _PYDANTIC_CODES.get(err["type"], "field_invalid")
            if err["type"] == END_BEFORE_START:
                where, code = "end_date", END_BEFORE_START
            field = f"details.{where}" if where else "details"
            errors.append(FieldError(field, code, {"detail": err["msg"]}))
        raise Invalid("tag_details_invalid", errors=errors) from exc
    return model.model_dump(mode="json")


def anniversary(start: date, years: int) -> date:
    """`start` moved by whole years; 29 February becomes 28 February in a common year."""
    year = start.year + years
    if start.month == 2 and start.day == 29 and not _is_leap(year):
        return date(year, 2, 28)
    return start.replace(year=year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def age_on(birth: date, on: date) -> int:
    """Completed years of age (周岁) on a date."""
    years = on.year - birth.year
    return years - 1 if anniversary(birth, years) > on else years


def latest_start(as_of: date, years: int) -> date:
    """The latest start date whose `years`-th anniversary falls on or before `as_of`: the
    cut-off that turns an anniversary rule into one indexable comparison."""
    shifted = anniversary(as_of, -years)
    following = shifted + timedelta(days=1)
    # A 29 February start reaches its anniversary on 28 February of a common year.
    return following if anniversary(following, years) <= as_of else shifted


@dataclass(frozen=True)
class Holder:
    """What a tag's eligibility depends on, from the ID number or the person record."""

    birth_date: date | None
    gender: Gender | None


# What a resident ID number looks like; anything else is a foreign document number.
_RESIDENT_SHAPE = re.compile(r"\d{15}|\d{17}[\dX]", re.ASCII)


def identify(raw: str, today: date) -> tuple[str, Holder | None]:
    """The normalised number and, for a resident ID, its holder (birth date and gender from
    the number, R-POP-2). A malformed resident ID is refused (422 `id_number_invalid`);
    passport and permit numbers pass through with no holder."""
    number = id_numbers.normalise(raw)
    if not _RESIDENT_SHAPE.fullmatch(number):
        return number, None
    resident = id_numbers.parse(number, today=today)
    return resident.number, Holder(resident.birth_date, resident.gender)


def check_holder(kind: TagKind, holder: Holder, on: date) -> None:
    """R-KEY-1 / R-CARE-1: the person's age and gender must suit the kind on `on` (e.g. key
    youth 6–25 inclusive, women of child-bearing age 15–49, elderly 60+)."""
    spec = KINDS[kind]
    if spec.min_age is not None or spec.max_age is not None:
        age = age_on(holder.birth_date, on) if holder.birth_date else None
        low, high = spec.min_age or 0, spec.max_age
        if age is None or age < low or (high is not None and age > high):
            params = {
                "label": spec.label,
                "range": f"{low}–{high}" if high is not None else f"≥{low}",
            }
            raise Invalid(
                "tag_age_out_of_range",
                params=params,
                errors=[FieldError("id_number", "tag_age_out_of_range", params)],
            )
    if spec.gender is not None and holder.gender != spec.gender:
        params = {"label": spec.label, "gender": GENDER_NAMES[spec.gender]}
        raise Invalid(
            "tag_gender_mismatch",
            params=params,
            errors=[FieldError("id_number", "tag_gender_mismatch", params)],
        )


# Where a life-cycle rule reads its starting date: a details field, or the holder's birth date.
BIRTH_DATE = "birth_date"


@dataclass(frozen=True)
class ExpiryRule:
    """R-KEY-2: a followed tag of `kind` is unfollowed `years` (and `days`) after its anchor
    date. `counter` names the rule in run reports."""

    counter: str
    kind: TagKind
    anchor: str
    years: int
    reason: str
    days: int = 0

    def anchor_of(self, details: Mapping[str, Any], birth_date: date | None) -> date | None:
        """The date this rule counts from, for a tag with these (JSON) details."""
        if self.anchor == BIRTH_DATE:
            return birth_date
        value = details.get(self.anchor)
        return date.fromisoformat(value) if isinstance(value, str) else None

    def due_on(self, anchor: date) -> date:
        """The first day the tag is no longer followed."""
        return anniversary(anchor, self.years) + timedelta(days=self.days)

    def is_due(self, anchor: date | None, as_of: date) -> bool:
        return anchor is not None and self.due_on(anchor) <= as_of

    def cutoff(self, as_of: date) -> date:
        """The latest anchor date that is due on `as_of` (`anchor <= cutoff` ⇔ `is_due`)."""
        return latest_start(as_of - timedelta(days=self.days), self.years)


EXPIRY_RULES: tuple[ExpiryRule, ...] = (
    ExpiryRule(
        "released_unfollowed",
        TagKind.RELEASED_PRISONER,
        "release_date",
        years=5,
        reason="刑满释放已满5年，自动取消关注",
    ),
    ExpiryRule(
        "reeducation_unfollowed",
        TagKind.RELEASED_REEDUCATION,
        "release_date",
        years=3,
        reason="解除教养已满3年，自动取消关注",
    ),
    # "When the correction period ends": the end date is its last day.
    ExpiryRule(
        "correction_unfollowed",
        TagKind.COMMUNITY_CORRECTION,
        "end_date",
        years=0,
        days=1,
        reason="社区矫正期满，自动取消关注",
    ),
    # Key youth are 6–25 inclusive: the 26th birthday ends it.
    ExpiryRule(
        "youth_unfollowed",
        TagKind.KEY_YOUTH,
        BIRTH_DATE,
        years=26,
        reason="已满26周岁，自动取消关注",
    ),
)

EXPIRY_BY_KIND: dict[TagKind, ExpiryRule] = {rule.kind: rule for rule in EXPIRY_RULES}


def check_eligible(kind: TagKind, holder: Holder, details: Mapping[str, Any], on: date) -> None:
    """A tag may be followed on `on`: the holder suits the kind, and its period has not
    already ended (a released prisoner 6 years after release would be unfollowed by the next
    daily run, R-KEY-2)."""
    check_holder(kind, holder, on)
    rule = EXPIRY_BY_KIND.get(kind)
    if rule is not None and rule.is_due(rule.anchor_of(details, holder.birth_date), on):
        field = "id_number" if rule.anchor == BIRTH_DATE else f"details.{rule.anchor}"
        raise Invalid(
            "tag_period_ended",
            params={"label": KINDS[kind].label},
            errors=[FieldError(field, "tag_period_ended", {"label": KINDS[kind].label})],
        )


# R-KEY-2: a community-correction person "may be converted by hand to a released prisoner"
# (社区矫正期满转为刑释人员). Conversions not listed here are refused.
CONVERSIONS: dict[TagKind, frozenset[TagKind]] = {
    TagKind.COMMUNITY_CORRECTION: frozenset({TagKind.RELEASED_PRISONER}),
}


def check_conversion(source: TagKind, target: TagKind) -> str:
    """A tag of `source` may be converted to `target`; the default reason the source is
    unfollowed with (e.g. "转为刑释人员"). 422 `tag_conversion_not_allowed` otherwise."""
    if target not in CONVERSIONS.get(source, frozenset()):
        params = {"source": KINDS[source].label, "target": KINDS[target].label}
        raise Invalid(
            "tag_conversion_not_allowed",
            params=params,
            errors=[FieldError("kind", "tag_conversion_not_allowed", params)],
        )
    return f"转为{KINDS[target].label}"


ELDERLY_COUNTER = "elderly_tagged"
ELDERLY_REASON = "年满60周岁，自动标记为老年人"


def elderly_birth_cutoff(as_of: date) -> date:
    """People born on or before this date are 60 or older on `as_of` (R-KEY-2)."""
    min_age = KINDS[TagKind.ELDERLY].min_age
    assert min_age is not None
    return latest_start(as_of, min_age)

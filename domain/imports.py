"""Import templates and the checks of one imported row (R-IMP-1).

A template per registry: people of each kind and organisations of each category. Its columns
are the registry's fields with Chinese headers; the kind-specific columns of people come from
the kind's details model (`domain.people.DETAILS`), so a new detail field is a new column. A
file must carry exactly the template's columns, in any order.

A row is rejected when a value it carries is malformed (an ID number failing GB 11643, a date
that is no date, a term outside its dictionary …) or when it lacks its identity: an ID number
or a name for people, a name for organisations. Values a record needs but the row lacks are no
reason to reject: the row waits in the pool and its claim reports it `incomplete` (R-IMP-2).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache, cached_property
from typing import Annotated, Any, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
)

from domain import id_numbers
from domain.coords import Crs
from domain.errors import DomainError
from domain.id_numbers import Gender
from domain.import_cells import (
    GRID_CODE,
    GRID_COLUMN,
    YES_NO,
    Column,
    Day,
    YesNo,
    dash_date,
    mapped,
)
from domain.import_records import LON, RECORD_SPECS, RecordSpec, to_wgs84_cells
from domain.people import DETAILS, DICTIONARIES, KIND_LABELS, PHONE_PATTERN, Kind
from domain.places import (
    ORGANISATION_CATEGORY_NAMES,
    OrganisationCategory,
    licence_valid,
    normalise_licence,
)
from domain.tags import KINDS, TagKind


class Nature(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    TAG = "tag"  # a business tag of a person: key persons, care objects (R-KEY-1, R-CARE-1)
    HOUSE = "house"
    RENTAL = "rental"
    PLACE = "place"
    TEAM = "team"
    COMPONENT = "component"
    VIDEO_POINT = "video_point"


_GENDERS = {"男": Gender.MALE.value, "女": Gender.FEMALE.value}


def _in_dictionary(name: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in DICTIONARIES[name]:
            raise ValueError("dictionary_value_invalid")
        return value

    return check


def _resident_id(value: str, info: ValidationInfo) -> str:
    """GB 11643 (R-POP-2): the number as stored, 15-digit numbers upgraded."""
    today: date = (info.context or {}).get("today") or date.today()
    try:
        return id_numbers.parse(value, today=today).number
    except DomainError as exc:
        raise ValueError(exc.errors[0].code if exc.errors else exc.code) from exc


def _licence(value: str) -> str:
    value = normalise_licence(value)
    if not licence_valid(value):
        raise ValueError("licence_invalid")
    return value


def _text(length: int) -> Any:
    return Annotated[str, Field(max_length=length)]


Phone = Annotated[str, Field(pattern=PHONE_PATTERN)]
ResidentNumber = Annotated[
    str,
    BeforeValidator(lambda v: id_numbers.normalise(v) if isinstance(v, str) else v),
    AfterValidator(_resident_id),
]


def _dictionary(name: str) -> Any:
    return Annotated[str, AfterValidator(_in_dictionary(name))]


PERSON_COLUMNS: tuple[Column, ...] = (
    GRID_COLUMN,
    Column("name", "姓名", _text(100)),
    Column("id_number", "证件号码", ResidentNumber),
    Column("former_name", "曾用名", _text(100)),
    Column("gender", "性别", Annotated[Gender, BeforeValidator(mapped(_GENDERS))]),
    Column("birth_date", "出生日期", Day),
    Column("ethnicity", "民族", _dictionary("ethnicity")),
    Column("phone", "联系电话", Phone),
    Column("register_address", "户籍地址", _text(300)),
    Column("current_address", "现住地址", _text(300)),
    Column("no_house_reason", "无房原因", _text(200)),
    Column("education", "文化程度", _dictionary("education")),
    Column("occupation", "职业", _text(100)),
    Column("employer", "工作单位", _text(200)),
    Column("political_status", "政治面貌", _dictionary("political_status")),
    Column("marital_status", "婚姻状况", _dictionary("marital_status")),
    Column("low_income", "低保", YesNo),
    Column("away", "外出", YesNo),
)
# Headers of the kind-specific fields, as the population export names them.
DETAIL_HEADERS: dict[str, str] = {
    "settle_date": "落户日期",
    "residence_permit_no": "暂住证号",
    "stay_reason": "暂住事由",
    "inflow_date": "流入日期",
    "landlord": "房东",
    "reason": "未落户原因",
    "reason_note": "未落户说明",
    "nationality": "国籍",
    "document_type": "证件类型",
    "document_number": "境外证件号码",
    "visa_type": "签证类型",
    "entry_date": "入境日期",
}
ORGANISATION_COLUMNS: tuple[Column, ...] = (
    GRID_COLUMN,
    Column("name", "名称", _text(200)),
    Column("org_type", "类型", _text(100)),
    Column("licence_no", "统一社会信用代码", Annotated[str, AfterValidator(_licence)]),
    Column("legal_representative", "法定代表人", _text(100)),
    Column("legal_representative_id_number", "法定代表人证件号码", ResidentNumber),
    Column("legal_representative_phone", "法定代表人电话", Phone),
    Column("principal", "负责人", _text(100)),
    Column("phone", "联系电话", Phone),
    Column("industry", "行业", _text(100)),
    Column("hazardous_chemicals", "涉及危化品", YesNo),
    Column("hazards", "安全隐患", _text(2000)),
    Column("address", "地址", _text(300)),
)


@dataclass(frozen=True)
class Template:
    """One registry's import template: which records its rows become and its columns.

    A pool row is known by its `name_key` and `identity_key` values (kept in the pool's
    name and identity columns); `pool_key` names which of grid, name and identity make two
    rows one (R-IMP-2). `rule` is the registry's own check over a whole row."""

    registry: str
    label: str
    nature: Nature
    kind: str
    columns: tuple[Column, ...]
    identity_key: str | None = "id_number"
    name_key: str = "name"
    pool_key: tuple[str, ...] = ("grid", "name", "identity")
    rule: Callable[[Mapping[str, Any]], None] | None = None

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @cached_property
    def key_of_header(self) -> dict[str, str]:
        """Each column's key by its header, as a file's row is read."""
        return {c.header: c.key for c in self.columns}

    # Cached: row checks ask for these for every cell of every row (a third of an import's
    # time went to rebuilding them).
    @cached_property
    def details_model(self) -> type[BaseModel] | None:
        """The model of the kind-specific details a record keeps, if any."""
        if self.nature == Nature.PERSON:
            return DETAILS[Kind(self.kind)]
        if self.nature == Nature.TAG:
            return KINDS[TagKind(self.kind)].details
        return None

    @cached_property
    def detail_keys(self) -> frozenset[str]:
        """Keys stored in the record's details rather than on the record itself."""
        model = self.details_model
        return frozenset(model.model_fields) if model else frozenset()

    @cached_property
    def located(self) -> bool:
        """Whether its rows carry a location (longitude, latitude, coordinate system)."""
        return any(c.key == LON for c in self.columns)


def _person_template(kind: Kind) -> Template:
    # Overseas people are identified by their document, not a resident ID (R-POP-3).
    common = [c for c in PERSON_COLUMNS if not (kind == Kind.OVERSEAS and c.key == "id_number")]
    details = [Column(name, DETAIL_HEADERS[name], Any) for name in DETAILS[kind].model_fields]
    return Template(
        registry=f"people_{kind.value}",
        label=KIND_LABELS[kind],
        nature=Nature.PERSON,
        kind=kind.value,
        columns=(*common, *details),
    )


def _organisation_template(category: OrganisationCategory) -> Template:
    return Template(
        registry=f"organisations_{category.value}",
        label=ORGANISATION_CATEGORY_NAMES[category],
        nature=Nature.ORGANISATION,
        kind=category.value,
        columns=ORGANISATION_COLUMNS,
        identity_key="licence_no",
    )


def _record_template(spec: RecordSpec) -> Template:
    return Template(
        registry=spec.registry,
        label=spec.label,
        nature=Nature(spec.registry.removesuffix("s")),
        kind=spec.registry,
        columns=spec.columns,
        identity_key=spec.identity,
        name_key=spec.name,
        pool_key=spec.pool_key,
        rule=spec.rule,
    )


def _tag_template(kind: TagKind) -> Template:
    # A released-prisoner file carries the released-prisoner fields: its own template.
    spec = KINDS[kind]
    details = [
        Column(name, info.title or name, Any) for name, info in spec.details.model_fields.items()
    ]
    return Template(
        registry=f"tags_{kind.value}",
        label=spec.label,
        nature=Nature.TAG,
        kind=kind.value,
        columns=(GRID_COLUMN, *PERSON_COLUMNS[1:3], *details),
    )


TEMPLATES: dict[str, Template] = {
    t.registry: t
    for t in (
        *(_person_template(kind) for kind in Kind),
        *(_organisation_template(category) for category in OrganisationCategory),
        *(_tag_template(kind) for kind in TagKind),
        *(_record_template(spec) for spec in RECORD_SPECS),
    )
}


@dataclass(frozen=True)
class ColumnMismatch:
    """The headers a file lacks and those it has beyond the template."""

    missing: list[str]
    unexpected: list[str]


def column_mismatch(template: Template, headers: list[str]) -> ColumnMismatch | None:
    """Why the file's header row is not the template's (R-IMP-1: the whole file is refused),
    or None when it is. Order does not matter; a header twice is unexpected."""
    seen = [h.strip() for h in headers]
    expected = template.headers
    missing = [h for h in expected if h not in seen]
    unexpected = [h for h in seen if h not in expected]
    unexpected += sorted({h for h in seen if h in expected and seen.count(h) > 1})
    if missing or unexpected:
        return ColumnMismatch(missing=missing, unexpected=unexpected)
    return None


@cache
def _row_model(registry: str) -> type[BaseModel]:
    """Every column optional, each of its type; details are checked by their kind's model."""
    template = TEMPLATES[registry]
    fields: dict[str, Any] = {
        c.key: (c.type | None, None) for c in template.columns if c.key not in template.detail_keys
    }
    return create_model(
        f"ImportRow_{registry}",
        __config__=ConfigDict(extra="ignore", str_strip_whitespace=True),
        **fields,
    )


@dataclass(frozen=True)
class RowCheck:
    """A row's values ready for the pool (JSON), or the reasons it is rejected by field."""

    values: dict[str, Any]
    errors: list[tuple[str, str]]


# What a row must carry to be kept (R-IMP-1): people an ID number (a document number for
# overseas people) or a name, organisations a name; other registries their `name_key`.
_IDENTITIES: dict[Nature, tuple[str, ...]] = {
    Nature.PERSON: ("name", "id_number", "document_number"),
    Nature.ORGANISATION: ("name",),
    Nature.TAG: ("name", "id_number"),
}


# Why a row may be rejected: message codes (`domain.messages`), each kept as itself; anything
# else a validator says is a plain `field_invalid`.
ROW_REASONS: dict[str, str] = {
    "field_invalid": "field_invalid",
    "dictionary_value_invalid": "dictionary_value_invalid",
    "id_number_format": "id_number_format",
    "id_number_checksum": "id_number_checksum",
    "id_number_region": "id_number_region",
    "id_number_birth_date": "id_number_birth_date",
    "licence_invalid": "licence_invalid",
    "identity_required": "identity_required",
    "field_required": "field_required",
    "grid_not_in_district": "grid_not_in_district",
}


def row_reason(code: str) -> str:
    """The message code of a rejection reason (unknown ones read `field_invalid`)."""
    return ROW_REASONS.get(code, "field_invalid")


def _reason(err: Mapping[str, Any]) -> str:
    if err["type"] == "value_error":
        # Our validators raise ValueError(code); pydantic prefixes "Value error, ".
        return row_reason(str(err["msg"]).removeprefix("Value error, "))
    return "field_invalid"


_LIST_SEPARATORS = re.compile(r"[、,，;；]")


def _detail_cells(template: Template, cells: Mapping[str, Any]) -> dict[str, Any]:
    """Detail cells as their model reads them: lists split at 、 , ;, 是/否 as booleans and
    dates written as spreadsheets write them."""
    model = template.details_model
    if model is None:
        return {}
    found: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in cells:
            continue
        value = cells[name]
        if isinstance(value, str) and get_origin(info.annotation) is list:
            value = [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]
        elif isinstance(value, str) and info.annotation is bool:
            value = YES_NO.get(value, value)
        elif isinstance(value, str) and date in (info.annotation, *get_args(info.annotation)):
            value = dash_date(value)
        found[name] = value
    return found


def check_row(
    template: Template, cells: Mapping[str, Any], *, today: date, crs: Crs = Crs.WGS84
) -> RowCheck:
    """Check one row (cells by column key; blank cells absent) — R-IMP-1. A location is
    read in the row's coordinate system, else in `crs`, and kept in WGS-84."""
    model = _row_model(template.registry)
    errors: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    plain = {k: v for k, v in cells.items() if k not in template.detail_keys}
    try:
        values = model.model_validate(plain, context={"today": today}).model_dump(
            mode="json", exclude_none=True
        )
    except ValidationError as exc:
        errors += [(str(err["loc"][0]), _reason(err)) for err in exc.errors()]
    details = _detail_cells(template, cells)
    if details and template.details_model is not None:
        try:
            checked = template.details_model.model_validate(details)
            values.update(checked.model_dump(mode="json", exclude_none=True))
        except ValidationError as exc:
            # A detail missing is for the claim to report (`incomplete`), not a rejection.
            errors += [
                (str(err["loc"][0]), _reason(err))
                for err in exc.errors()
                if err["type"] != "missing"
            ]
            if not any(err["type"] != "missing" for err in exc.errors()):
                values.update(details)
    if template.located and not errors:
        errors += to_wgs84_cells(values, crs)
    if template.rule is not None and not errors:
        try:
            template.rule(values)
        except DomainError as exc:
            errors += [(e.field, row_reason(e.code)) for e in exc.errors]
    carried = _IDENTITIES.get(template.nature, (template.name_key,))
    if not any(cells.get(key) for key in carried):
        errors.append((template.name_key, row_reason("identity_required")))
    return RowCheck(values={} if errors else values, errors=errors)


def typed_values(template: Template, values: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """A checked row's values (as the pool keeps them, JSON) as Python values again (dates,
    enums), for the registry's service; details stay JSON, their model reads them."""
    plain = {k: v for k, v in values.items() if k not in template.detail_keys}
    model = _row_model(template.registry)
    typed = model.model_validate(plain, context={"today": today}).model_dump(exclude_none=True)
    typed.pop(GRID_CODE, None)
    return typed


def header_of(template: Template, key: str) -> str:
    """The Chinese header of a column key (the key itself when not a column)."""
    return next((c.header for c in template.columns if c.key == key), key)

"""The import templates of houses, rentals, key places, service teams, city components and
video points (R-IMP-1).

Each column reads its cell by the type the registry's request schema declares for the field
(`domain.houses`, `domain.places`), so an imported value passes exactly where a typed one
does; a registry's further rules (a component's kind within its category, a team's
sub-category, a stream URL's scheme) run on the row as its service runs them.

A location is two columns, longitude and latitude, with a third naming their coordinate
system: files from Chinese map sources carry GCJ-02 (or BD-09); a blank cell means the
system the upload names, and every point is kept in WGS-84 (R-GRID-4).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from domain import houses
from domain import places as p
from domain.addresses import HazardLevel
from domain.coords import Crs, to_wgs84
from domain.import_cells import GRID_COLUMN, Column, Day, mapped, named

LON, LAT, CRS = "lon", "lat", "crs"

Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
_CRS_NAMES = {"WGS-84": "wgs84", "WGS84": "wgs84", "GCJ-02": "gcj02", "GCJ02": "gcj02"}
_CRS_NAMES |= {"BD-09": "bd09", "BD09": "bd09", "火星坐标": "gcj02", "百度坐标": "bd09"}


def _crs_name(value: object) -> object:
    return _CRS_NAMES.get(value.upper(), value.lower()) if isinstance(value, str) else value


CrsCell = Annotated[Crs, BeforeValidator(_crs_name)]

_SEPARATORS = re.compile(r"[、,，;；]")


def _names_list(names: Mapping[Any, str]) -> Callable[[object], object]:
    """A cell of several terms (`治安重点、消防安全重点`) as a list of their codes."""
    one = named(names)

    def split(value: object) -> object:
        if not isinstance(value, str):
            return value
        return [one(part.strip()) for part in _SEPARATORS.split(value) if part.strip()]

    return split


_CONDITION_NAMES = {
    p.ComponentCondition.NORMAL: "完好",
    p.ComponentCondition.DAMAGED: "破损",
    p.ComponentCondition.MISSING: "丢失",
    p.ComponentCondition.OCCUPIED: "被占用",
    p.ComponentCondition.OUT_OF_SERVICE: "停用",
}
_COMPONENT_CATEGORY_NAMES = {
    p.ComponentCategory.PUBLIC: "公共设施",
    p.ComponentCategory.CIVIL: "民用设施",
}
_VIDEO_SOURCE_NAMES = {
    p.VideoSource.PUBLIC_SECURITY: "治安动态视频",
    p.VideoSource.TRAFFIC: "交通视频",
    p.VideoSource.WORK_SAFETY: "安全生产视频",
    p.VideoSource.SOCIAL: "社会视频",
}
_ALL_COMPONENT_KINDS = {
    name: kind for kinds in p.COMPONENT_KINDS.values() for kind, name in kinds.items()
}


_KIND_NAMES = mapped(_ALL_COMPONENT_KINDS)


def _term(enum: Any, names: Mapping[Any, str]) -> Any:
    return Annotated[enum, BeforeValidator(named(names))]


LOCATION_COLUMNS: tuple[Column, ...] = (
    Column(LON, "经度", Longitude),
    Column(LAT, "纬度", Latitude),
    Column(CRS, "坐标系", CrsCell),
)


def _located(*columns: Column, required: bool = False) -> tuple[Column, ...]:
    lon, lat, crs = LOCATION_COLUMNS
    return (
        GRID_COLUMN,
        *columns,
        Column(lon.key, lon.header, lon.type, required),
        Column(lat.key, lat.header, lat.type, required),
        crs,
    )


HOUSE_COLUMNS = _located(
    Column("house_no", "房屋编号", houses.HouseNo, True),
    Column("address", "房屋地址", houses.AddressText, True),
    Column("building", "楼栋", houses.Text50),
    Column("unit_no", "单元", houses.Text20),
    Column("room", "房间号", houses.Text20),
    Column("use", "房屋用途", houses.Text32),
    Column("structure", "房屋结构", houses.Text32),
    Column("area", "建筑面积", houses.Area),
    Column("owner_name", "房主姓名", houses.Text100),
    Column("owner_id_number", "房主证件号码", houses.IdNumber),
    Column("owner_phone", "房主联系电话", houses.Phone),
)
RENTAL_COLUMNS: tuple[Column, ...] = (
    GRID_COLUMN,
    Column("house_no", "房屋编号", houses.HouseNo, True),
    Column("landlord_name", "房东姓名", houses.PersonName, True),
    Column("landlord_phone", "房东联系电话", houses.Phone),
    Column("landlord_id_number", "房东证件号码", houses.IdNumber),
    Column("rooms", "出租间数", houses.Rooms),
    Column("nature", "出租性质", houses.Text32),
    Column("category", "出租类别", houses.Text32),
    Column("use", "出租用途", houses.Text32),
    Column("structure", "房屋结构", houses.Text32),
    Column("hazard_level", "隐患程度", HazardLevel),
)
PLACE_COLUMNS = _located(
    Column("name", "场所名称", p.Name, True),
    Column("address", "场所地址", p.Address),
    Column("principal", "负责人", p.PersonName),
    Column("phone", "联系电话", p.Phone),
    Column(
        "kinds",
        "场所类型",
        Annotated[
            list[p.PlaceKind],
            Field(min_length=1, max_length=len(p.PlaceKind)),
            BeforeValidator(_names_list(p.PLACE_KIND_NAMES)),
        ],
        True,
    ),
    Column("level", "关注等级", _term(p.AttentionLevel, p.LEVEL_NAMES)),
    # Given to each kind whose details have one (网吧 → 娱乐场所 for a public-security place).
    Column("subtype", "场所子类", p.Subcategory),
)
TEAM_COLUMNS: tuple[Column, ...] = (
    GRID_COLUMN,
    Column("name", "团队名称", p.Name, True),
    Column("category", "团队类别", _term(p.TeamCategory, p.TEAM_CATEGORY_NAMES), True),
    Column("subcategory", "团队子类", p.Subcategory),
    Column("leader", "负责人", p.PersonName),
    Column("phone", "联系电话", p.Phone),
    Column("description", "团队简介", p.Text),
    Column("established_on", "成立日期", Day),
)
COMPONENT_COLUMNS = _located(
    Column("code", "部件编码", p.Code, True),
    Column("name", "部件名称", p.Name, True),
    Column("category", "部件大类", _term(p.ComponentCategory, _COMPONENT_CATEGORY_NAMES), True),
    Column("kind", "部件小类", Annotated[p.ComponentKind, BeforeValidator(_KIND_NAMES)], True),
    Column("condition", "部件状态", _term(p.ComponentCondition, _CONDITION_NAMES)),
    Column("owner", "权属单位", p.Name),
    required=True,
)
VIDEO_POINT_COLUMNS = _located(
    Column("name", "点位名称", p.Name, True),
    Column("code", "点位编码", p.Code),
    Column("source", "视频来源", _term(p.VideoSource, _VIDEO_SOURCE_NAMES), True),
    Column("stream_url", "视频流地址", p.StreamUrl, True),
    Column("owner", "建设单位", p.Name, True),
    required=True,
)


def _team_rule(values: Mapping[str, Any]) -> None:
    if values.get("category"):
        p.check_team(p.TeamCategory(values["category"]), values.get("subcategory"))


def _component_rule(values: Mapping[str, Any]) -> None:
    if values.get("category") and values.get("kind"):
        p.check_component_kind(p.ComponentCategory(values["category"]), values["kind"])


def _video_rule(values: Mapping[str, Any]) -> None:
    if values.get("stream_url"):
        p.check_urls({"stream_url": values["stream_url"]}, p.STREAM_SCHEMES)


@dataclass(frozen=True)
class RecordSpec:
    """A registry's template beyond its columns: the fields a pool row is known by (its
    `name`, its `identity`), which of the pool row's grid, name and identity make two rows
    one (R-IMP-2), and the registry's rule over a whole row."""

    registry: str
    label: str
    columns: tuple[Column, ...]
    name: str
    identity: str | None
    pool_key: tuple[str, ...]
    rule: Callable[[Mapping[str, Any]], None] | None = None


_GRID_NAME = ("grid", "name")
RECORD_SPECS: tuple[RecordSpec, ...] = (
    RecordSpec("houses", "实有房屋", HOUSE_COLUMNS, "address", "house_no", _GRID_NAME),
    RecordSpec(
        "rentals", "出租房屋", RENTAL_COLUMNS, "landlord_name", "house_no", ("grid", "identity")
    ),
    RecordSpec("places", "重点场所", PLACE_COLUMNS, "name", "address", (*_GRID_NAME, "identity")),
    RecordSpec("teams", "服务团队", TEAM_COLUMNS, "name", None, _GRID_NAME, _team_rule),
    RecordSpec(
        "components", "城市部件", COMPONENT_COLUMNS, "name", "code", ("identity",), _component_rule
    ),
    RecordSpec(
        "video_points", "视频点位", VIDEO_POINT_COLUMNS, "name", "code", _GRID_NAME, _video_rule
    ),
)


def to_wgs84_cells(values: dict[str, Any], default: Crs) -> list[tuple[str, str]]:
    """Replace a row's longitude and latitude (in its own or the upload's coordinate system)
    by their WGS-84 values, dropping the system; the reasons when only one of them is given."""
    crs = Crs(values.pop(CRS, None) or default)
    lon, lat = values.get(LON), values.get(LAT)
    if lon is None and lat is None:
        return []
    if lon is None or lat is None:
        return [(LON if lon is None else LAT, "field_required")]
    values[LON], values[LAT] = (round(c, 7) for c in to_wgs84(lon, lat, crs))
    return []

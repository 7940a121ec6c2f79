"""The territorial hierarchy and its code rules (R-ORG-1, R-ORG-2)."""

import re
from enum import StrEnum

from domain.errors import FieldError, Invalid


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


LEVEL_ORDER: tuple[Level, ...] = (
    Level.CITY,
    Level.DISTRICT,
    Level.STREET,
    Level.COMMUNITY,
    Level.GRID,
)
TOP_LEVELS = frozenset({Level.CITY, Level.DISTRICT})
DEPARTMENT_HOME_LEVELS = frozenset({Level.DISTRICT, Level.STREET})

# 12-digit statistical division codes: city PPCC00000000, district PPCCDD000000,
# street PPCCDDSSS000, community PPCCDDSSSNNN; a grid is its community's code + 3 digits.
# re.ASCII: `\d` is 0-9 only, never full-width or other Unicode digits.
_CODE_SHAPES: dict[Level, tuple[re.Pattern[str], str]] = {
    Level.CITY: (re.compile(r"\d{4}0{8}", re.ASCII), "市级编码为 12 位数字，以 00000000 结尾"),
    Level.DISTRICT: (
        re.compile(r"\d{4}(?!00)\d{2}0{6}", re.ASCII),
        "区县编码为 12 位数字，以 000000 结尾",
    ),
    Level.STREET: (
        re.compile(r"\d{6}(?!000)\d{3}0{3}", re.ASCII),
        "街道编码为 12 位数字，以 000 结尾",
    ),
    Level.COMMUNITY: (
        re.compile(r"\d{9}(?!000)\d{3}", re.ASCII),
        "社区编码为 12 位数字，末 3 位非 000",
    ),
    Level.GRID: (
        re.compile(r"\d{12}(?!000)\d{3}", re.ASCII),
        "网格编码为所属社区编码加 3 位序号",
    ),
}


def child_level(parent: Level) -> Level | None:
    """The level directly below `parent`; None below a grid."""
    index = LEVEL_ORDER.index(parent)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def check_placement(level: Level, parent_level: Level | None) -> None:
    """A child is exactly one level below its parent; a top unit is a city or a district."""
    if parent_level is None:
        if level not in TOP_LEVELS:
            raise Invalid("top_level_invalid", errors=[FieldError("parent_id", "field_required")])
        return
    expected = child_level(parent_level)
    if level != expected:
        raise Invalid(
            "level_mismatch",
            params={"parent_level": parent_level.value, "expected": expected or "-"},
            errors=[FieldError("level", "field_invalid", {"detail": level.value})],
        )


def check_code(code: str, level: Level, parent_code: str | None) -> None:
    """The code has its level's shape and extends its parent's code (R-ORG-1)."""
    pattern, expected = _CODE_SHAPES[level]
    if not pattern.fullmatch(code) or not _extends_parent(code, level, parent_code):
        raise Invalid(
            "code_malformed",
            params={"expected": expected},
            errors=[FieldError("code", "field_invalid", {"detail": code})],
        )


def _extends_parent(code: str, level: Level, parent_code: str | None) -> bool:
    if parent_code is None:
        return True
    prefix_length = {
        Level.CITY: 0,
        Level.DISTRICT: 4,
        Level.STREET: 6,
        Level.COMMUNITY: 9,
        Level.GRID: 12,
    }[level]
    return code[:prefix_length] == parent_code[:prefix_length]

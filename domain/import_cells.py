"""The cells of an import row (R-IMP-1): a template's columns and the cell types that read
what spreadsheets write — dates as 2024/1/5, 是/否 for yes and no, terms by their Chinese
names."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

# The column naming the grid a row belongs to; optional in each row.
GRID_CODE = "grid_code"


def dash_date(value: object) -> object:
    """Spreadsheets write dates as 2024/1/5 or 2024.01.05 as often as 2024-01-05."""
    match = (
        re.fullmatch(r"(\d{4})[./年-](\d{1,2})[./月-](\d{1,2})日?", value)
        if isinstance(value, str)
        else None
    )
    if match is None:
        return value
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return value  # no such day: the date type refuses it


YES_NO = {"是": True, "否": False}


def mapped(terms: Mapping[str, object]) -> Callable[[object], object]:
    return lambda value: terms.get(value, value) if isinstance(value, str) else value


Day = Annotated[date, BeforeValidator(dash_date)]
YesNo = Annotated[bool, BeforeValidator(mapped(YES_NO))]


def named(names: Mapping[Any, str]) -> Callable[[object], object]:
    """A term given by its Chinese name (as a names table has it) read as its code."""
    return mapped({name: str(term) for term, name in names.items()})


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: Any
    # A value the record needs: a row without it waits in the pool, `incomplete` (R-IMP-2).
    required: bool = False


GRID_COLUMN = Column(GRID_CODE, "网格编码", Annotated[str, Field(pattern=r"^\d{15}$")])
